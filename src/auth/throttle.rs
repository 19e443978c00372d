//! Login throttling: failed attempts are counted per email and per client address in a sliding
//! window. The failures live in the database (`login_failure`), so every instance behind a load
//! balancer applies one shared limit.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::login_failure;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
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

    /// `RATE_LIMITED` (with the seconds to wait) when the email or the address has used up its
    /// failures.
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        email: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let mut wait = 0u64;
        for (key, limit) in self.keys(email, ip) {
            let since = now - window(limit)?;
            let (count, oldest): (i64, Option<DateTime<Utc>>) = login_failure::Entity::find()
                .select_only()
                .column_as(login_failure::Column::Id.count(), "count")
                .column_as(login_failure::Column::FailedAt.min(), "oldest")
                .filter(login_failure::Column::Key.eq(&key))
                .filter(login_failure::Column::FailedAt.gt(since))
                .into_tuple()
                .one(db)
                .await?
                .unwrap_or((0, None));
            if count as u64 >= limit.max_failures {
                let until = oldest.unwrap_or(now) + window(limit)?;
                let seconds = (until - now).num_seconds().max(1) as u64;
                wait = wait.max(seconds);
            }
        }
        if wait > 0 {
            Err(AppError::RateLimited {
                retry_after_secs: wait,
            })
        } else {
            Ok(())
        }
    }

    /// Records a failed attempt for the email and the address. Failures that left the window
    /// no longer count ([`Self::check`]) and are deleted by [`Self::sweep`].
    pub async fn record_failure(
        &self,
        db: &impl ConnectionTrait,
        email: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        for (key, _) in self.keys(email, ip) {
            login_failure::Entity::insert(login_failure::ActiveModel {
                id: Set(Uuid::now_v7()),
                key: Set(key),
                failed_at: Set(now),
            })
            .exec_without_returning(db)
            .await?;
        }
        Ok(())
    }

    /// Clears the email's failures after a successful login (the address's stay counted).
    pub async fn record_success(&self, db: &impl ConnectionTrait, email: &str) -> AppResult<()> {
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

fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
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
            assert!(t.check(&db, "a@x.fi", None, now).await.is_ok());
            t.record_failure(&db, "a@x.fi", None, now).await.unwrap();
        }
        assert!(t.check(&db, "A@x.fi", None, now).await.is_err());
        assert!(t.check(&db, "b@x.fi", None, now).await.is_ok());
        t.record_success(&db, "a@x.fi").await.unwrap();
        assert!(t.check(&db, "a@x.fi", None, now).await.is_ok());
    }

    #[tokio::test]
    async fn blocks_an_ip_that_tries_many_emails_until_the_window_passes() {
        let (t, db, now) = (throttle(), db().await, Utc::now());
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..5 {
            t.record_failure(&db, &format!("user{i}@x.fi"), Some(ip), now)
                .await
                .unwrap();
        }
        match t.check(&db, "fresh@x.fi", Some(ip), now).await {
            Err(AppError::RateLimited { retry_after_secs }) => assert!(retry_after_secs <= 60),
            other => panic!("{other:?}"),
        }
        assert!(t.check(&db, "fresh@x.fi", None, now).await.is_ok());
        let later = now + chrono::Duration::seconds(61);
        assert!(t.check(&db, "fresh@x.fi", Some(ip), later).await.is_ok());
        assert_eq!(t.sweep(&db, later).await.unwrap(), 5 + 5);
    }
}
