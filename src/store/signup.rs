//! Subscribing from the public page (double opt-in) and managing a subscription from a signed link.
//!
//! A request from the form never activates anything and never changes an active subscription: a
//! new (or departed, or suspended) address becomes `pending` with its choices and starts afresh
//! (only items first seen from now on are theirs); an active one is left as it is — its new choices
//! travel inside the signed confirmation link and take effect only when that link is opened. The
//! confirmation mail itself is throttled per address.

use chrono::{DateTime, Utc};
use rusqlite::{TransactionBehavior, params};

use super::subscribers::{set_sources, status_of, upsert};
use super::{Result, Store};

/// What a form request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// The address was new, pending, unsubscribed or suspended: it is pending now.
    Pending,
    /// The address is active: nothing changed.
    Active,
}

impl Store {
    /// Records a subscription request from the public form (see the module doc).
    pub fn request_subscription(
        &self,
        email: &str,
        sources: &[String],
        schedule: &str,
    ) -> Result<Request> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if status_of(&tx, email)?.is_some_and(|(_, status)| status == "active") {
            return Ok(Request::Active);
        }
        upsert(&tx, email, sources, schedule, "pending")?;
        tx.commit()?;
        Ok(Request::Pending)
    }

    /// Applies a confirmed request: the address is active with these choices. An address that was
    /// active keeps what it was owed (its `since`); one that was pending keeps the time it asked.
    /// Returns the subscriber id.
    pub fn confirm_subscription(
        &self,
        email: &str,
        sources: &[String],
        schedule: &str,
    ) -> Result<i64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (id, _) = upsert(&tx, email, sources, schedule, "active")?;
        tx.commit()?;
        Ok(id)
    }

    /// Changes an active subscriber's choices (from the signed "manage" link).
    pub fn update_choices(&self, id: i64, sources: &[String], schedule: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE subscribers SET schedule = ?2 WHERE id = ?1 AND status = 'active'",
            params![id, schedule],
        )?;
        if changed == 1 {
            set_sources(&tx, id, sources)?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    /// Whether a confirmation mail may go to `email` now (none in the last `gap`); if so, the
    /// sending is recorded in the same step.
    pub fn claim_confirmation(
        &self,
        email: &str,
        now: DateTime<Utc>,
        gap: chrono::Duration,
    ) -> Result<bool> {
        let conn = self.conn()?;
        let claimed = conn.execute(
            "INSERT INTO confirmations (email, last_sent) VALUES (?1, ?2)
             ON CONFLICT(email) DO UPDATE SET last_sent = excluded.last_sent
             WHERE confirmations.last_sent <= ?3",
            params![email, now.timestamp(), (now - gap).timestamp()],
        )?;
        Ok(claimed == 1)
    }

    /// Forgets a claim whose mail could not be sent, so that asking again soon is not refused.
    pub fn release_confirmation(&self, email: &str) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM confirmations WHERE email = ?1", [email])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("t.db")).expect("open");
        (dir, store)
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_form_request_is_pending_and_never_touches_an_active_subscription() {
        let (_d, s) = store();
        assert_eq!(
            s.request_subscription("a@example.com", &ids(&["x"]), "daily")
                .unwrap(),
            Request::Pending
        );
        assert_eq!(
            s.subscriber("a@example.com").unwrap().unwrap().status,
            "pending"
        );
        s.confirm_subscription("a@example.com", &ids(&["x"]), "daily")
            .unwrap();
        assert_eq!(
            s.request_subscription("A@example.com", &ids(&["y"]), "weekly")
                .unwrap(),
            Request::Active
        );
        let sub = s.subscriber("a@example.com").unwrap().unwrap();
        assert_eq!(
            (sub.status.as_str(), sub.schedule.as_str()),
            ("active", "daily")
        );
        assert_eq!(sub.sources, ids(&["x"]));
    }

    #[test]
    fn confirming_applies_the_choices_of_the_link() {
        let (_d, s) = store();
        s.request_subscription("a@example.com", &ids(&["x"]), "daily")
            .unwrap();
        s.confirm_subscription("a@example.com", &ids(&["x", "y"]), "immediate")
            .unwrap();
        let sub = s.subscriber("a@example.com").unwrap().unwrap();
        assert_eq!(
            (sub.status.as_str(), sub.schedule.as_str()),
            ("active", "immediate")
        );
        assert_eq!(sub.sources, ids(&["x", "y"]));
    }

    #[test]
    fn a_departed_address_that_asks_again_starts_afresh() {
        let (_d, s) = store();
        s.confirm_subscription("a@example.com", &ids(&["x"]), "daily")
            .unwrap();
        let first = s.subscriber("a@example.com").unwrap().unwrap();
        let id = first.id;
        s.unsubscribe(id).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        s.request_subscription("a@example.com", &ids(&["x"]), "daily")
            .unwrap();
        let again = s.subscriber("a@example.com").unwrap().unwrap();
        assert_eq!(again.status, "pending");
        assert!(again.since > first.since, "since restarts");
    }

    #[test]
    fn one_confirmation_mail_an_hour_per_address() {
        let (_d, s) = store();
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        assert!(s.claim_confirmation("a@example.com", now, hour).unwrap());
        assert!(
            !s.claim_confirmation("A@example.com", now + chrono::Duration::minutes(30), hour)
                .unwrap()
        );
        assert!(s.claim_confirmation("b@example.com", now, hour).unwrap());
        assert!(
            s.claim_confirmation("a@example.com", now + chrono::Duration::minutes(61), hour)
                .unwrap()
        );
    }
}
