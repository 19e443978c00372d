use std::fmt;

use super::InvalidValue;

/// An email address, trimmed and lower-cased so that uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let normalized = raw.trim().to_lowercase();
        if normalized.len() > 254 || !email_address::EmailAddress::is_valid(&normalized) {
            return Err(InvalidValue(format!(
                "{:?} is not a valid email address",
                raw.trim()
            )));
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_whitespace() {
        assert_eq!(
            Email::parse("  Maija.Mentor@Example.EDU ")
                .unwrap()
                .as_str(),
            "maija.mentor@example.edu"
        );
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "no-at-sign",
            "two@@example.edu",
            "a b@example.edu",
            "@example.edu",
            "user@",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.edu", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
