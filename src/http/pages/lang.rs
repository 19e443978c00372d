//! The reader's language: the one they chose, else their browser's, else Finnish.

use axum::http::{HeaderMap, header};

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lang {
    #[default]
    Fi,
    Sv,
    En,
}

/// The cookie that remembers a chosen language.
pub const COOKIE: &str = "lang";

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Fi, Lang::Sv, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Self::Fi => "fi",
            Self::Sv => "sv",
            Self::En => "en",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fi => "Suomeksi",
            Self::Sv => "På svenska",
            Self::En => "In English",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| code.eq_ignore_ascii_case(l.code()))
    }

    /// The language of a user's settings.
    pub fn from_locale(locale: entity::user::Locale) -> Self {
        match locale {
            entity::user::Locale::Fi => Self::Fi,
            entity::user::Locale::Sv => Self::Sv,
            entity::user::Locale::En => Self::En,
        }
    }

    /// The user setting for this language.
    pub fn locale(self) -> entity::user::Locale {
        match self {
            Self::Fi => entity::user::Locale::Fi,
            Self::Sv => entity::user::Locale::Sv,
            Self::En => entity::user::Locale::En,
        }
    }

    /// The API's name of the language (`Locale` enum).
    pub fn graphql_locale(self) -> &'static str {
        match self {
            Self::Fi => "FI",
            Self::Sv => "SV",
            Self::En => "EN",
        }
    }

    /// The `Set-Cookie` value that remembers this choice for a year.
    pub fn cookie(self) -> String {
        format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            self.code()
        )
    }

    /// The reader's language, and whether they chose it just now (to remember it): `?lang=`,
    /// else the remembered choice, else the best of `Accept-Language`, else Finnish.
    pub fn negotiate(chosen: Option<&str>, headers: &HeaderMap) -> (Self, Option<Self>) {
        if let Some(lang) = chosen.and_then(Self::from_code) {
            return (lang, Some(lang));
        }
        let remembered = super::reader::cookie(headers, COOKIE).and_then(Self::from_code);
        if let Some(lang) = remembered {
            return (lang, None);
        }
        let accepted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(best_accepted);
        (accepted.unwrap_or_default(), None)
    }
}

/// The most preferred of our languages in an `Accept-Language` value (RFC 9110 §12.5.4);
/// among equal weights the first listed wins.
fn best_accepted(value: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let primary = tag.split('-').next().unwrap_or_default();
        let Some(lang) = Lang::from_code(primary) else {
            continue;
        };
        let weight = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if weight > 0.0 && best.is_none_or(|(_, w)| weight > w) {
            best = Some((lang, weight));
        }
    }
    best.map(|(lang, _)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_choice_beats_the_cookie_which_beats_the_browser() {
        let browser = headers(&[(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9,fi;q=0.5")]);
        assert_eq!(Lang::negotiate(None, &browser), (Lang::En, None));
        assert_eq!(
            Lang::negotiate(Some("sv"), &browser),
            (Lang::Sv, Some(Lang::Sv))
        );
        let remembered = headers(&[
            (header::ACCEPT_LANGUAGE, "en"),
            (header::COOKIE, "other=1; lang=sv"),
        ]);
        assert_eq!(Lang::negotiate(None, &remembered), (Lang::Sv, None));
        assert_eq!(
            Lang::negotiate(Some("xx"), &HeaderMap::new()),
            (Lang::Fi, None)
        );
    }

    #[test]
    fn weights_decide_and_unknown_languages_are_skipped() {
        assert_eq!(best_accepted("de, sv;q=0.4, en;q=0.8"), Some(Lang::En));
        assert_eq!(best_accepted("sv-FI, fi;q=0.9"), Some(Lang::Sv));
        assert_eq!(best_accepted("de, fr"), None);
        assert_eq!(best_accepted("en;q=0, fi;q=0.1"), Some(Lang::Fi));
        assert_eq!(best_accepted(""), None);
    }

    proptest::proptest! {
        #[test]
        fn any_header_value_gives_a_language_or_none(value in "\\PC{0,200}") {
            let _ = best_accepted(&value);
        }
    }
}
