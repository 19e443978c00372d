//! Login throttling: failed attempts are counted per email and per client address in a sliding
//! window. The failures live in the database (`login_failure`), so every instance behind a load
//! balancer applies one shared limit.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::login_failure;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Limits for one kind of key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max_failures: u64,
    pub window: Duration,
}

/// The failed-login limits; the counts are in the database.
#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    per_email: Limit,
    per_ip: Limit,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(
            Limit {
                max_failures: 5,
                window: Duration::from_secs(15 * 60),
            },
            Limit {
                max_failures: 30,
                window: Duration::from_secs(15 * 60),
            },
        )
    }
}

impl LoginThrottle {
    pub fn new(per_email: Limit, per_ip: Limit) -> Self {
        Self { per_email, per_ip }
    }

    /// Reserves an attempt before any password work: in one transaction that holds each key's
    /// lock (PostgreSQL advisory locks across instances; SQLite has one writer), the failures
    /// in the window are counted and, below the limits, the attempt is written as a failure for
    /// the email and the address. Concurrent attempts therefore see each other, and exactly the
    /// limit gets through. Past a limit the answer is `RATE_LIMITED` (with the seconds to wait)
    /// and nothing is written. A failed attempt keeps its rows; [`Self::succeeded`] removes
    /// them.
    pub async fn begin_attempt(
        &self,
        db: &DatabaseConnection,
        email: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> AppResult<Attempt> {
        let keys = self.keys(email, ip);
        let txn = db.begin().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            let mut locks: Vec<i64> = keys.iter().map(|(key, _)| lock_key(key)).collect();
            // Always in the same order, so that two attempts never wait for each other.
            locks.sort_unstable();
            for lock in locks {
                crate::db::advisory_xact_lock(&txn, lock).await?;
            }
        }
        let mut wait = 0u64;
        for (key, limit) in &keys {
            let since = now - window(*limit)?;
            let (count, oldest): (i64, Option<DateTime<Utc>>) = login_failure::Entity::find()
                .select_only()
                .column_as(login_failure::Column::Id.count(), "count")
                .column_as(login_failure::Column::FailedAt.min(), "oldest")
                .filter(login_failure::Column::Key.eq(key))
                .filter(login_failure::Column::FailedAt.gt(since))
                .into_tuple()
                .one(&txn)
                .await?
                .unwrap_or((0, None));
            if count as u64 >= limit.max_failures {
                let until = oldest.unwrap_or(now) + window(*limit)?;
                let seconds = (until - now).num_seconds().max(1) as u64;
                wait = wait.max(seconds);
            }
        }
        if wait > 0 {
            return Err(AppError::RateLimited {
                retry_after_secs: wait,
            });
        }
        let ids: Vec<Uuid> = keys.iter().map(|_| Uuid::now_v7()).collect();
        login_failure::Entity::insert_many(keys.iter().zip(&ids).map(|((key, _), id)| {
            login_failure::ActiveModel {
                id: Set(*id),
                key: Set(key.clone()),
                failed_at: Set(now),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(Attempt { ids })
    }

    /// A reserved attempt succeeded: it no longer counts, and neither do the email's earlier
    /// failures (the address's stay counted).
    pub async fn succeeded(
        &self,
        db: &impl ConnectionTrait,
        attempt: Attempt,
        email: &str,
    ) -> AppResult<()> {
        delete_ids(db, &attempt.ids).await?;
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::Key.eq(email_key(email)))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Deletes every failure older than the longest window (run by the scheduler).
    pub async fn sweep(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<u64> {
        let longest = Limit {
            window: self.per_email.window.max(self.per_ip.window),
            ..self.per_email
        };
        Ok(login_failure::Entity::delete_many()
            .filter(login_failure::Column::FailedAt.lte(now - window(longest)?))
            .exec(db)
            .await?
            .rows_affected)
    }

    fn keys(&self, email: &str, ip: Option<IpAddr>) -> Vec<(String, Limit)> {
        let mut keys = vec![(email_key(email), self.per_email)];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), self.per_ip));
        }
        keys
    }
}

/// An attempt reserved by [`LoginThrottle::begin_attempt`]; dropped without
/// [`LoginThrottle::succeeded`], it stays counted as a failure.
#[must_use]
pub struct Attempt {
    ids: Vec<Uuid>,
}

async fn delete_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<()> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// A stable 64-bit advisory-lock key for a throttle key (the same on every instance).
fn lock_key(key: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("login-throttle:{key}"));
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The throttle key of an address as typed. An address longer than any real one (RFC 5321:
/// 254 characters) is keyed by its SHA-256, so that the key fits its column and repeated
/// attempts with the same long text still count together.
fn email_key(email: &str) -> String {
    let email = email.trim().to_lowercase();
    if email.len() <= 254 {
        return format!("email:{email}");
    }
    format!("email-sha256:{}", super::token::hash_token(&email))
}

fn window(limit: Limit) -> AppResult<chrono::Duration> {
    chrono::Duration::from_std(limit.window).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use migration::MigratorTrait;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(
            Limit {
                max_failures: 3,
                window: Duration::from_secs(60),
            },
            Limit {
                max_failures: 5,
                window: Duration::from_secs(60),
            },
        )
    }

    async fn db() -> sea_orm::DatabaseConnection {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        db
    }

    #[tokio::test]
    async fn blocks_an_email_after_its_failures_and_frees_it_on_success() {
        let (t, db, now) = (throttle(), db().await, Utc::now());
        for _ in 0..3 {
            let _failed = t.begin_attempt(&db, "a@x.fi", None, now).await.unwrap();
        }
        assert!(t.begin_attempt(&db, "A@x.fi", None, now).await.is_err());
        let ok = t.begin_attempt(&db, "b@x.fi", None, now).await.unwrap();
        t.succeeded(&db, ok, "b@x.fi").await.unwrap();
        // The refused attempt wrote nothing: three failures, not four.
        let count = login_failure::Entity::find().all(&db).await.unwrap().len();
        assert_eq!(count, 3);
        db.execute_unprepared("DELETE FROM login_failure")
            .await
            .unwrap();
        let ok = t.begin_attempt(&db, "a@x.fi", None, now).await.unwrap();
        t.succeeded(&db, ok, "a@x.fi").await.unwrap();
        assert_eq!(
            login_failure::Entity::find().all(&db).await.unwrap().len(),
            0
        );
    }

    #[tokio::test]
    async fn blocks_an_ip_that_tries_many_emails_until_the_window_passes() {
        let (t, db, now) = (throttle(), db().await, Utc::now());
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..5 {
            let _failed = t
                .begin_attempt(&db, &format!("user{i}@x.fi"), Some(ip), now)
                .await
                .unwrap();
        }
        match t.begin_attempt(&db, "fresh@x.fi", Some(ip), now).await {
            Err(AppError::RateLimited { retry_after_secs }) => assert!(retry_after_secs <= 60),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("the sixth attempt from the address got through"),
        }
        assert!(t.begin_attempt(&db, "fresh@x.fi", None, now).await.is_ok());
        let later = now + chrono::Duration::seconds(61);
        assert!(
            t.begin_attempt(&db, "other@x.fi", Some(ip), later)
                .await
                .is_ok()
        );
        // 5 failures per email and address, the unthrottled fresh one, and the later two.
        assert_eq!(t.sweep(&db, later).await.unwrap(), 5 + 5 + 1);
    }
}
