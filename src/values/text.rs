use super::InvalidValue;
use crate::error::{AppError, AppResult};

/// Whether a character may stand in text that people write: not NUL, no C0 control other than
/// tab, line feed and carriage return, no Unicode non-character.
pub fn is_allowed_char(c: char) -> bool {
    let code = c as u32;
    if code < 0x20 {
        return matches!(c, '\t' | '\n' | '\r');
    }
    let non_character = (0xFDD0..=0xFDEF).contains(&code) || (code & 0xFFFE) == 0xFFFE;
    !non_character
}

/// The refusal of the first character of `text` that [`is_allowed_char`] refuses.
fn allowed_text(text: &str) -> Result<(), InvalidValue> {
    match text.chars().find(|c| !is_allowed_char(*c)) {
        None => Ok(()),
        Some(c) => Err(InvalidValue(format!(
            "contains the control or non-character U+{:04X}, which is not allowed",
            c as u32
        ))),
    }
}

/// `BAD_USER_INPUT` naming `field` when `text` holds a character that [`is_allowed_char`]
/// refuses.
pub fn check_text(field: &str, text: &str) -> Result<(), AppError> {
    allowed_text(text).map_err(AppError::invalid(field))
}

/// Trimmed text that is neither empty nor longer than a limit (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmptyText(String);

impl NonEmptyText {
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, InvalidValue> {
        let trimmed = raw.trim();
        allowed_text(trimmed)?;
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

    /// Parses a multi-line input field (a body, a note): the trimmed text with every line
    /// break made `\n` (browsers send `\r\n`), or `BAD_USER_INPUT` naming `field`.
    pub fn input(field: &str, raw: &str, max_chars: usize) -> AppResult<String> {
        let normalized = raw.replace("\r\n", "\n").replace('\r', "\n");
        Self::parse(&normalized, max_chars)
            .map(Self::into_inner)
            .map_err(AppError::invalid(field))
    }

    /// Parses a single-line input field (a title, a name): as [`Self::input`], and no line
    /// break of any kind, nor a tab, is allowed (tabs and line breaks belong to multi-line
    /// text only).
    pub fn line(field: &str, raw: &str, max_chars: usize) -> AppResult<String> {
        if raw.contains(['\n', '\r', '\t', '\u{85}', '\u{2028}', '\u{2029}']) {
            return Err(AppError::bad_input(
                field,
                "must be a single line without tabs",
            ));
        }
        Self::input(field, raw, max_chars)
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
        let one = |field: &str, raw: &str| NonEmptyText::line(field, raw, MAX);
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
    fn titles_are_one_line_and_bodies_get_unix_line_breaks() {
        assert!(NonEmptyText::line("title", "a\nb", 10).is_err());
        assert!(NonEmptyText::line("title", "a\rb", 10).is_err());
        assert!(NonEmptyText::line("title", "a\u{2028}b", 10).is_err());
        assert!(NonEmptyText::line("title", "a\tb", 10).is_err());
        assert_eq!(NonEmptyText::line("title", " a b ", 10).unwrap(), "a b");
        assert_eq!(
            NonEmptyText::input("body", "a\r\nb\rc\n", 10).unwrap(),
            "a\nb\nc"
        );
    }

    #[test]
    fn names_the_missing_translation() {
        let err = TranslatedNames::parse("Tiede", "", "Science").unwrap_err();
        assert!(matches!(err, AppError::BadInput { field, .. } if field == "nameSv"));
    }
}
