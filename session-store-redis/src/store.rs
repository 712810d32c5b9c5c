//! The [`SessionStore`] operations, one round trip each.

use async_trait::async_trait;
use session_core::{Delta, Record, SessionId, SessionStore, StoreError, Timestamp};

use crate::layout;
use crate::resp::Command;
use crate::RedisStore;

#[async_trait]
impl SessionStore for RedisStore {
    /// `true`: an update sends the delta's fields and the deadlines, never
    /// the whole map.
    fn applies_deltas(&self) -> bool {
        true
    }

    async fn load(&self, token: &str, now: Timestamp) -> Result<Option<Record>, StoreError> {
        // Only a well-formed id becomes part of a key.
        let Some(id) = SessionId::parse(token) else {
            return Ok(None);
        };
        let inner = &self.inner;
        let mut cmd = Command::new("HGETALL");
        cmd.arg_key(&inner.keys.key_parts(&id));
        let reply = inner
            .conn
            .bounded(|deadline| async move {
                match inner.conn.answer(&cmd, deadline).await {
                    // A key of another type: foreign data, not an outage.
                    Err(e) if e.code() == Some("WRONGTYPE") => Ok(None),
                    other => other.map(Some),
                }
            })
            .await?;
        let decoded = match reply {
            Some(reply) => layout::decode(id, &reply),
            None => Err(layout::Corrupt::NotAHash),
        };
        match decoded {
            Ok(Some(record)) if record.is_kept_at(now) => Ok(Some(record)),
            Ok(_) => Ok(None),
            Err(reason) => {
                tracing::warn!(
                    session = %id.short(),
                    %reason,
                    "ignoring a value under a session key that this store did not write"
                );
                Ok(None)
            }
        }
    }

    async fn create(&self, record: &Record) -> Result<Option<String>, StoreError> {
        let inner = &self.inner;
        let key = inner.keys.key_parts(&record.id);
        let written: i64 = inner
            .conn
            .bounded(|deadline| {
                inner.conn.eval(&inner.create, &key, deadline, |cmd| {
                    layout::create_args(cmd, record)
                })
            })
            .await?;
        Ok((written == 1).then(|| record.id.to_token()))
    }

    async fn update(&self, record: &Record, delta: &Delta) -> Result<Option<String>, StoreError> {
        let inner = &self.inner;
        let key = inner.keys.key_parts(&record.id);
        let applied: Option<i64> = inner
            .conn
            .bounded(|deadline| {
                inner.conn.eval(&inner.update, &key, deadline, |cmd| {
                    layout::update_args(cmd, record, delta)
                })
            })
            .await?;
        Ok(applied.map(|_| record.id.to_token()))
    }

    async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError> {
        self.update(record, &Delta::default()).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let inner = &self.inner;
        let mut cmd = Command::new("DEL");
        cmd.arg_key(&inner.keys.key_parts(id));
        let _removed: i64 = inner
            .conn
            .bounded(|deadline| inner.conn.send(&cmd, deadline))
            .await?;
        Ok(())
    }
}
