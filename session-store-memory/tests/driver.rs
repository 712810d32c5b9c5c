//! The driver's no-wait steps on a store that answers at once: what
//! completes inline, what must be awaited, and that both give what the
//! async calls give.

use std::sync::Arc;
use std::time::Duration;

use session_core::{
    CommitNow, CookieLifetime, LoadNow, Loaded, OnTimeout, Session, SessionConfig, SessionManager,
    SessionStore, Timestamp,
};
use session_store_memory::MemoryStore;
use session_testkit::{block_on, ManualClock};

fn manager(store: &Arc<MemoryStore>, clock: &ManualClock) -> SessionManager {
    manager_with(store, clock, CookieLifetime::BrowserSession)
}

fn manager_with(
    store: &Arc<MemoryStore>,
    clock: &ManualClock,
    lifetime: CookieLifetime,
) -> SessionManager {
    let config = SessionConfig::builder()
        .cookie_name("sid")
        .idle_timeout(Duration::from_secs(60))
        .on_timeout(OnTimeout::Redirect("/".into()))
        .lifetime(lifetime)
        .build()
        .unwrap();
    let store: Arc<dyn SessionStore> = store.clone();
    SessionManager::from_arc(store, config).with_clock(Arc::new(clock.clone()))
}

/// A session holding `counter = 1`, stored: its cookie's `name=value`.
async fn saved_session(manager: &SessionManager) -> String {
    let session = active(manager.load_now([]));
    session.insert("counter", &1).unwrap();
    cookie(&manager.commit(&session, 200).await.unwrap())
}

fn active(loaded: LoadNow) -> Session {
    match loaded {
        LoadNow::Done(Ok(Loaded::Active(session))) => session,
        other => panic!("expected a session loaded at once, got {other:?}"),
    }
}

/// The `name=value` part of the session cookie a commit set.
fn cookie(done: &session_core::Committed) -> String {
    let header = done.set_cookies.last().expect("a Set-Cookie");
    header.split(';').next().unwrap().to_owned()
}

#[test]
fn memory_store_reads_and_updates_without_waiting() {
    block_on(async {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::at(Timestamp::from_unix_millis(1_000_000));
        let manager = manager(&store, &clock);

        // No cookie: a fresh session, at once.
        let session = active(manager.load_now([]));
        session.insert("counter", &1).unwrap();
        // Creating a session may need a retry with another id: awaited.
        let CommitNow::Pending(pending) = manager.commit_now(&session, 200) else {
            panic!("a create is not answered inline");
        };
        let done = manager.finish_commit(pending).await.unwrap();
        let pair = cookie(&done);
        assert_eq!(store.len(), 1);

        // Read and update: both inline on the memory store.
        let session = active(manager.load_now([pair.as_bytes()]));
        assert_eq!(session.get::<i64>("counter").unwrap(), Some(1));
        session.insert("counter", &2).unwrap();
        let CommitNow::Done(done) = manager.commit_now(&session, 200) else {
            panic!("an update on the memory store is answered inline");
        };
        let done = done.unwrap();
        assert!(
            done.set_cookies.is_empty(),
            "same id, no Max-Age: no cookie"
        );
        assert!(done.vary_cookie);

        // What the inline path stored is what the async path reads.
        let Loaded::Active(session) = manager.load([pair.as_bytes()]).await.unwrap() else {
            panic!("expected the session");
        };
        assert_eq!(session.get::<i64>("counter").unwrap(), Some(2));
        let done = manager.commit(&session, 200).await.unwrap();
        assert!(done.set_cookies.is_empty());
    });
}

#[test]
fn timed_out_session_is_deleted_before_the_redirect() {
    block_on(async {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::at(Timestamp::from_unix_millis(1_000_000));
        let manager = manager(&store, &clock);
        let session = active(manager.load_now([]));
        session.insert("user", "alice").unwrap();
        let done = manager.commit(&session, 200).await.unwrap();
        let pair = cookie(&done);

        clock.advance(Duration::from_secs(61));
        // The delete of the timed-out record is a store call: not inline.
        let LoadNow::Pending(pending) = manager.load_now([pair.as_bytes()]) else {
            panic!("a timed-out session must be deleted first");
        };
        assert_eq!(store.len(), 1, "nothing deleted before it is awaited");
        match manager.finish_load(pending).await.unwrap() {
            Loaded::Redirect(to) => {
                assert_eq!(to.location, "/");
                assert!(to.set_cookie.starts_with("sid=; Max-Age=0"));
            }
            Loaded::Active(_) => panic!("expected the timeout redirect"),
        }
        assert_eq!(store.len(), 0, "the timed-out record is deleted");
    });
}

#[test]
fn forged_token_gets_a_fresh_session_at_once() {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at(Timestamp::from_unix_millis(1_000_000));
    let manager = manager(&store, &clock);
    for forged in [
        &b"sid=not-an-id"[..],
        b"sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let session = active(manager.load_now([forged]));
        assert!(session.is_empty());
        // Nothing was written: no store call, no cookie.
        let CommitNow::Done(done) = manager.commit_now(&session, 200) else {
            panic!("an untouched fresh session commits inline");
        };
        assert!(done.unwrap().set_cookies.is_empty());
    }
    assert_eq!(store.len(), 0);
}

#[test]
fn commit_after_commits_with_the_handlers_status() {
    block_on(async {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::at(Timestamp::from_unix_millis(1_000_000));
        let manager = Arc::new(manager(&store, &clock));
        let status = |code: &u16| *code;

        // A new session's create waits on the store: the boxed step.
        let session = active(manager.load_now([]));
        session.insert("counter", &1).unwrap();
        let handler = async { Ok::<u16, ()>(200) };
        let (code, done) = manager
            .commit_after(session, handler, status)
            .await
            .unwrap();
        assert_eq!(code, 200);
        let pair = cookie(&done.unwrap());
        assert_eq!(store.len(), 1);

        // An update, inline; a 5xx from the handler commits nothing.
        let session = active(manager.load_now([pair.as_bytes()]));
        session.insert("counter", &2).unwrap();
        let handler = async { Ok::<u16, ()>(500) };
        let (code, done) = manager
            .commit_after(session.clone(), handler, status)
            .await
            .unwrap();
        assert_eq!(code, 500);
        assert!(done.unwrap().set_cookies.is_empty());
        let session = active(manager.load_now([pair.as_bytes()]));
        assert_eq!(session.get::<i64>("counter").unwrap(), Some(1));

        // A handler error passes through, and the session is not committed.
        session.insert("counter", &3).unwrap();
        let handler = async { Err::<u16, &str>("handler failed") };
        let got = manager.commit_after(session.clone(), handler, status).await;
        assert_eq!(got.err(), Some("handler failed"));
        let handler = async { Ok::<u16, ()>(200) };
        let (_, done) = manager
            .commit_after(session, handler, status)
            .await
            .unwrap();
        assert!(
            done.unwrap().set_cookies.is_empty(),
            "same id: no new cookie"
        );
        let session = active(manager.load_now([pair.as_bytes()]));
        assert_eq!(session.get::<i64>("counter").unwrap(), Some(3));
    });
}

#[test]
fn inline_update_keeps_the_token_and_refreshes_a_persistent_cookie() {
    block_on(async {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::at(Timestamp::from_unix_millis(1_000_000));
        let manager = manager_with(&store, &clock, CookieLifetime::Persistent);
        let pair = saved_session(&manager).await;

        // The store answers "same token": the cookie is set again with
        // that token, for its new Max-Age.
        clock.advance(Duration::from_secs(10));
        let session = active(manager.load_now([pair.as_bytes()]));
        session.insert("counter", &2).unwrap();
        let CommitNow::Done(done) = manager.commit_now(&session, 200) else {
            panic!("an update on the memory store is answered inline");
        };
        let done = done.unwrap();
        assert_eq!(cookie(&done), pair);
        let header = done.set_cookies.last().unwrap();
        assert!(header.contains("; Max-Age=60;"), "{header}");
        assert!(done.no_store);
    });
}

#[test]
fn inline_update_of_a_deleted_session_sets_no_cookie() {
    block_on(async {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::at(Timestamp::from_unix_millis(1_000_000));
        let manager = manager(&store, &clock);
        let pair = saved_session(&manager).await;

        // Another request logs out while this one runs: the change is not
        // written back (no resurrection) and the cookie is left alone.
        let session = active(manager.load_now([pair.as_bytes()]));
        session.insert("counter", &2).unwrap();
        let id = session_core::SessionId::parse(pair.trim_start_matches("sid=")).unwrap();
        store.delete(&id).await.unwrap();
        let CommitNow::Done(done) = manager.commit_now(&session, 200) else {
            panic!("an update on the memory store is answered inline");
        };
        let done = done.unwrap();
        assert!(done.set_cookies.is_empty());
        assert!(!done.no_store);
        assert_eq!(store.len(), 0, "the deleted session is not resurrected");
    });
}
