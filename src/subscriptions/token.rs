//! Signed unsubscribe tokens: they name a user and a scope and work without login. The key is
//! created once per database (table `app_secret`) and shared by every instance.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::app_secret;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// What an unsubscribe link stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Emails about one topic.
    Topic(Uuid),
    /// Every digest.
    AllDigests,
}

/// A verified token's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribe {
    pub user_id: Uuid,
    pub scope: Scope,
}

/// Signs and verifies tokens.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

const SECRET_NAME: &str = "unsubscribe_signing_key";
/// Longest token accepted; anything longer is refused before any work.
pub const MAX_TOKEN_LEN: usize = 256;

impl Signer {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    /// Loads the database's signing key, creating it on first use (race-safe).
    pub async fn load(db: &impl ConnectionTrait) -> AppResult<Self> {
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        app_secret::Entity::insert(app_secret::ActiveModel {
            name: Set(SECRET_NAME.to_owned()),
            value: Set(URL_SAFE_NO_PAD.encode(fresh)),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(app_secret::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        let stored = app_secret::Entity::find_by_id(SECRET_NAME.to_owned())
            .one(db)
            .await?
            .ok_or(AppError::NotFound("signing key"))?;
        let key = URL_SAFE_NO_PAD
            .decode(stored.value)
            .map_err(AppError::internal)?;
        Ok(Self::new(key))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        Hmac::<Sha256>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!())
    }

    pub fn sign(&self, unsubscribe: Unsubscribe) -> String {
        let scope = match unsubscribe.scope {
            Scope::Topic(id) => id.to_string(),
            Scope::AllDigests => "digests".to_owned(),
        };
        let payload = URL_SAFE_NO_PAD.encode(format!("{}:{scope}", unsubscribe.user_id));
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        format!(
            "{payload}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// Checks the signature (in constant time) and decodes; `None` for anything forged,
    /// tampered or malformed.
    pub fn verify(&self, token: &str) -> Option<Unsubscribe> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let (payload, signature) = token.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let (user, scope) = decoded.split_once(':')?;
        let scope = match scope {
            "digests" => Scope::AllDigests,
            topic => Scope::Topic(Uuid::parse_str(topic).ok()?),
        };
        Some(Unsubscribe {
            user_id: Uuid::parse_str(user).ok()?,
            scope,
        })
    }
}

/// What a signed mail address (`<purpose>+<token>@REPLY_DOMAIN`) stands for; the purpose is
/// part of what is signed, so a bounce address never works as a reply address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPurpose {
    /// Replies to the email of one delivery.
    Reply,
    /// Delivery status notifications about one delivery (the envelope sender).
    Bounce,
}

impl AddressPurpose {
    pub fn local_prefix(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::Bounce => "bounce",
        }
    }
}

/// Bytes of the MAC kept in an address token: 80 bits cannot be guessed online.
const ADDRESS_MAC_BYTES: usize = 10;

impl Signer {
    /// The token of a mail address naming one delivery: its id and a truncated MAC, in lower-case
    /// hex (52 characters), because mail servers may change the case of a local part and it must
    /// fit the 64 characters a local part may have.
    pub fn sign_address(&self, purpose: AddressPurpose, delivery: Uuid) -> String {
        let mut mac = self.mac();
        mac.update(purpose.local_prefix().as_bytes());
        mac.update(delivery.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = String::with_capacity(2 * (16 + ADDRESS_MAC_BYTES));
        for byte in delivery.as_bytes().iter().chain(&tag[..ADDRESS_MAC_BYTES]) {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// The delivery an address token names, if it was signed here for `purpose` (case-insensitive;
    /// checked in constant time).
    pub fn verify_address(&self, purpose: AddressPurpose, token: &str) -> Option<Uuid> {
        if token.len() != 2 * (16 + ADDRESS_MAC_BYTES)
            || !token.chars().all(|c| c.is_ascii_hexdigit())
        {
            return None;
        }
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let (id, tag) = bytes.split_at(16);
        let delivery = Uuid::from_slice(id).ok()?;
        let mut mac = self.mac();
        mac.update(purpose.local_prefix().as_bytes());
        mac.update(delivery.as_bytes());
        mac.verify_truncated_left(tag).ok()?;
        Some(delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_tokens_name_their_delivery_and_purpose_only() {
        let signer = Signer::new(b"test key".to_vec());
        let id = Uuid::now_v7();
        let token = signer.sign_address(AddressPurpose::Reply, id);
        assert_eq!(token.len(), 52);
        assert!(format!("reply+{token}").len() <= 64, "fits a local part");
        assert_eq!(
            signer.verify_address(AddressPurpose::Reply, &token),
            Some(id)
        );
        assert_eq!(
            signer.verify_address(AddressPurpose::Reply, &token.to_uppercase()),
            Some(id),
            "mail servers may change the case"
        );
        assert_eq!(signer.verify_address(AddressPurpose::Bounce, &token), None);
        let other = Signer::new(b"other key".to_vec());
        assert_eq!(other.verify_address(AddressPurpose::Reply, &token), None);
        let mut forged = token.clone();
        forged.replace_range(0..2, if &token[0..2] == "00" { "01" } else { "00" });
        assert_eq!(signer.verify_address(AddressPurpose::Reply, &forged), None);
        for bad in ["", "zz", &token[..50], "é".repeat(26).as_str()] {
            assert_eq!(signer.verify_address(AddressPurpose::Reply, bad), None);
        }
    }

    #[test]
    fn tokens_verify_and_tampering_is_refused() {
        let signer = Signer::new(b"test key".to_vec());
        let original = Unsubscribe {
            user_id: Uuid::now_v7(),
            scope: Scope::Topic(Uuid::now_v7()),
        };
        let token = signer.sign(original);
        assert_eq!(signer.verify(&token), Some(original));
        let all = Unsubscribe {
            user_id: original.user_id,
            scope: Scope::AllDigests,
        };
        assert_eq!(signer.verify(&signer.sign(all)), Some(all));

        let (payload, signature) = token.split_once('.').unwrap();
        let other_user = URL_SAFE_NO_PAD.encode(format!("{}:digests", Uuid::now_v7()));
        assert_eq!(signer.verify(&format!("{other_user}.{signature}")), None);
        assert_eq!(
            signer.verify(&format!("{payload}.{}", &signature[1..])),
            None
        );
        assert_eq!(Signer::new(b"other key".to_vec()).verify(&token), None);
        for junk in ["", ".", "abc", "a.b.c", &"x".repeat(1000)] {
            assert_eq!(signer.verify(junk), None, "{junk}");
        }
    }

    fn uuid() -> impl proptest::strategy::Strategy<Value = Uuid> {
        use proptest::prelude::*;
        any::<u128>().prop_map(Uuid::from_u128)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_input_never_panics_and_is_refused(token in "[A-Za-z0-9_.:-]{0,300}|\\PC{0,300}") {
            let signer = Signer::new(b"fuzz key".to_vec());
            proptest::prop_assert_eq!(signer.verify(&token), None);
        }

        #[test]
        fn signed_tokens_round_trip_and_any_single_change_is_refused(
            user in uuid(),
            topic in proptest::option::of(uuid()),
            position in 0usize..200,
            replacement in proptest::char::range('-', 'z'),
        ) {
            let signer = Signer::new(b"fuzz key".to_vec());
            let scope = topic.map_or(Scope::AllDigests, Scope::Topic);
            let original = Unsubscribe { user_id: user, scope };
            let token = signer.sign(original);
            proptest::prop_assert_eq!(signer.verify(&token), Some(original));
            let mut chars: Vec<char> = token.chars().collect();
            let at = position % chars.len();
            chars[at] = replacement;
            let changed: String = chars.into_iter().collect();
            if changed != token {
                proptest::prop_assert_eq!(signer.verify(&changed), None, "{}", changed);
            }
        }
    }
}
