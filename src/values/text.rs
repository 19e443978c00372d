use super::InvalidValue;
use crate::error::{AppError, AppResult};

/// Trimmed text that is neither empty nor longer than a limit (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmptyText(String);

impl NonEmptyText {
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, InvalidValue> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidValue("must not be empty".into()));
        }
        let chars = trimmed.chars().count();
        if chars > max_chars {
            return Err(InvalidValue(format!(
                "is {chars} characters long; at most {max_chars} are allowed"
            )));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// Parses an input field: the trimmed text, or `BAD_USER_INPUT` naming `field`.
    pub fn input(field: &str, raw: &str, max_chars: usize) -> AppResult<String> {
        Self::parse(raw, max_chars)
            .map(Self::into_inner)
            .map_err(AppError::invalid(field))
    }
}

/// A name in Finnish, Swedish and English, each required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedNames {
    pub fi: String,
    pub sv: String,
    pub en: String,
}

impl TranslatedNames {
    /// Validates each language; a failure names its input field (`nameFi`, `nameSv`,
    /// `nameEn`), as every input with translated names spells them.
    pub fn parse(fi: &str, sv: &str, en: &str) -> AppResult<Self> {
        const MAX: usize = 200;
        let one = |field: &str, raw: &str| NonEmptyText::input(field, raw, MAX);
        Ok(Self {
            fi: one("nameFi", fi)?,
            sv: one("nameSv", sv)?,
            en: one("nameEn", en)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds_text() {
        assert_eq!(
            NonEmptyText::parse("  hello ", 10).unwrap().into_inner(),
            "hello"
        );
        assert!(NonEmptyText::parse("   ", 10).is_err());
        assert!(NonEmptyText::parse("ääääääääääx", 10).is_err());
        assert!(NonEmptyText::parse("ääääääääää", 10).is_ok());
    }

    #[test]
    fn names_the_missing_translation() {
        let err = TranslatedNames::parse("Tiede", "", "Science").unwrap_err();
        assert!(matches!(err, AppError::BadInput { field, .. } if field == "nameSv"));
    }
}
