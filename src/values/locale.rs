use entity::user::Locale;

use super::InvalidValue;

/// Parses `fi`, `sv` or `en` (case-insensitive).
pub fn parse_locale(raw: &str) -> Result<Locale, InvalidValue> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "fi" => Ok(Locale::Fi),
        "sv" => Ok(Locale::Sv),
        "en" => Ok(Locale::En),
        _ => Err(InvalidValue(format!(
            "{raw:?} is not a supported locale: use fi, sv or en"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_three_languages() {
        assert_eq!(parse_locale("FI").unwrap(), Locale::Fi);
        assert_eq!(parse_locale("sv").unwrap(), Locale::Sv);
        assert_eq!(parse_locale(" en ").unwrap(), Locale::En);
        assert!(parse_locale("de").is_err());
        assert!(parse_locale("").is_err());
    }
}
