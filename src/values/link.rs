//! Links to other sites, as people give them.

use super::InvalidValue;

/// A link as stored: an absolute http(s) URL with a host, normalized. Any white space or
/// control character is refused, not dropped (URL parsing would silently remove a CR or LF,
/// which must never reach a calendar line or a header).
pub fn web_link(raw: &str) -> Result<String, InvalidValue> {
    let invalid = || InvalidValue("must be an http(s) link".to_owned());
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let url = url::Url::parse(raw).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid());
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_web_links_pass_and_come_back_normalized() {
        assert_eq!(
            web_link("https://Example.org").as_deref(),
            Ok("https://example.org/")
        );
        for bad in [
            "",
            "example.org",
            "ftp://example.org/",
            "javascript:alert(1)",
            "https://exa mple.org/",
            "https://example.org/\r\nX: y",
            "https://",
            "mailto:someone@example.org",
        ] {
            assert!(web_link(bad).is_err(), "{bad:?}");
        }
    }
}
