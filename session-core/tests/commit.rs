//! The commit decision, case by case, with time injected and ids from a
//! counter. No store, no clock, no sleeping.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use session_core::{
    CookieLifetime, Data, IdError, IdSource, OnTimeout, Record, Save, SessionConfig, SessionCore,
    SessionError, SessionId, Timestamp, Value,
};

struct Counter(AtomicU8);

impl IdSource for Counter {
    fn next_id(&self) -> Result<SessionId, IdError> {
        Ok(SessionId::from_bytes(
            [self.0.fetch_add(1, Ordering::SeqCst); 24],
        ))
    }
}

const MIN: Duration = Duration::from_secs(60);

fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000 + secs * 1000)
}

fn core_with(config: SessionConfig) -> SessionCore {
    SessionCore::with_ids(config, false, Arc::new(Counter(AtomicU8::new(100))))
}

fn core() -> SessionCore {
    core_with(SessionConfig::default())
}

/// A stored record made at t(0), last extended at `extended`.
fn stored(core: &SessionCore, extended: i64) -> Record {
    let mut data = Data::new();
    data.insert("user".into(), Value::from("\"alice\""));
    data.insert("n".into(), Value::from("1"));
    let idle = core.config().idle_timeout();
    let idle_deadline = t(extended).add(idle);
    Record {
        id: SessionId::from_bytes([1; 24]),
        data,
        flash: Data::new(),
        created_at: t(0),
        idle_deadline,
        absolute_deadline: core.config().absolute_timeout().map(|a| t(0).add(a)),
        keep_until: idle_deadline.add(core.config().timed_out_grace()),
    }
}

fn header(record: &Record) -> String {
    format!("session={}", record.id)
}

/// Resumes `record` at `now` through the public calls.
fn resume(core: &SessionCore, record: &Record, now: Timestamp) -> session_core::Resumed {
    let cookie = header(record);
    let start = core.start([cookie.as_bytes()]);
    assert_eq!(start.token(), Some(record.id.to_string().as_str()));
    core.resume(start, Some(record.clone()), now)
}

#[test]
fn new_and_untouched_writes_nothing() {
    let core = core();
    let s = core.resume(core.start([]), None, t(0)).session;
    assert!(s.get::<String>("x").unwrap().is_none());
    let c = core.finish(&s, 200, t(0)).unwrap();
    assert!(c.save.is_none() && c.delete.is_none());
    assert_eq!(core.set_cookie(&c, None, t(0)), None);
}

#[test]
fn new_with_data_is_created_with_a_fresh_id() {
    let core = core();
    let s = core.resume(core.start([]), None, t(0)).session;
    s.insert("user", "bob").unwrap();
    let c = core.finish(&s, 200, t(0)).unwrap();
    let Some(Save::Create(r)) = &c.save else {
        panic!("{c:?}")
    };
    assert_eq!(r.id, SessionId::from_bytes([100; 24]));
    assert_eq!(r.data["user"].as_ref(), "\"bob\"");
    assert_eq!(r.idle_deadline, t(0).add(30 * MIN));
    assert_eq!(r.keep_until, t(0).add(60 * MIN));
    let cookie = core.set_cookie(&c, Some(&r.id.to_string()), t(0)).unwrap();
    assert_eq!(
        cookie,
        format!("session={}; Path=/; HttpOnly; Secure; SameSite=Lax", r.id)
    );
}

#[test]
fn unchanged_does_nothing_until_a_touch_is_due() {
    let core = core();
    let r = stored(&core, 0);
    // 7 minutes in: less than a quarter of 30 minutes.
    let s = resume(&core, &r, t(7 * 60)).session;
    assert_eq!(s.get::<String>("user").unwrap().as_deref(), Some("alice"));
    let c = core.finish(&s, 200, t(7 * 60)).unwrap();
    assert!(c.save.is_none(), "{c:?}");
    assert!(c.vary_cookie);
    // 8 minutes in: a touch, with new deadlines, and no cookie.
    let s = resume(&core, &r, t(8 * 60)).session;
    let c = core.finish(&s, 200, t(8 * 60)).unwrap();
    let Some(Save::Touch(touched)) = &c.save else {
        panic!("{c:?}")
    };
    assert_eq!(touched.idle_deadline, t(8 * 60).add(30 * MIN));
    assert_eq!(touched.data, r.data);
    assert_eq!(
        core.set_cookie(&c, Some(&r.id.to_string()), t(8 * 60)),
        None
    );
}

#[test]
fn a_touch_is_due_as_of_the_requests_arrival() {
    let core = core();
    let r = stored(&core, 0);
    // Arrived 7 minutes in, answered 9 minutes in: not due when it came,
    // so a read-only request writes nothing (the next one will touch).
    let s = resume(&core, &r, t(7 * 60)).session;
    assert_eq!(s.get::<String>("user").unwrap().as_deref(), Some("alice"));
    let c = core.finish(&s, 200, t(9 * 60)).unwrap();
    assert!(c.save.is_none(), "{c:?}");
    // A change made in the same long request is dated when it is saved.
    let s = resume(&core, &r, t(7 * 60)).session;
    s.insert("n", &1).unwrap();
    let c = core.finish(&s, 200, t(9 * 60)).unwrap();
    let Some(Save::Update(next, _)) = &c.save else {
        panic!("{c:?}")
    };
    assert_eq!(next.idle_deadline, t(9 * 60).add(30 * MIN));
}

#[test]
fn a_change_is_an_update_with_a_delta() {
    let core = core();
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.insert("n", &2).unwrap();
    s.remove("user");
    assert!(!s.remove("never-there"));
    let c = core.finish(&s, 200, t(10)).unwrap();
    let Some(Save::Update(next, delta)) = &c.save else {
        panic!("{c:?}")
    };
    assert_eq!(delta.set, vec![("n".to_owned(), Value::from("2"))]);
    assert_eq!(delta.removed, vec!["user".to_owned()]);
    assert!(!delta.cleared);
    // By default the record carries the data with the changes merged in.
    let merged: Vec<(&str, &str)> = next.data.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    assert_eq!(merged, vec![("n", "2")]);
    assert_eq!(next.idle_deadline, t(10).add(30 * MIN));
    assert_eq!(next.created_at, t(0));
    // Same token, browser-session cookie: nothing to send.
    assert_eq!(core.set_cookie(&c, Some(&r.id.to_string()), t(10)), None);
    // The record is gone (a concurrent logout): no cookie either.
    assert_eq!(core.set_cookie(&c, None, t(10)), None);
}

#[test]
fn a_store_that_applies_deltas_gets_the_delta_without_merged_data() {
    let core = core().with_delta_updates(true);
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.insert("n", &2).unwrap();
    s.remove("user");
    let c = core.finish(&s, 200, t(10)).unwrap();
    let Some(Save::Update(next, delta)) = &c.save else {
        panic!("{c:?}")
    };
    assert!(next.data.is_empty(), "{:?}", next.data);
    assert_eq!(delta.set, vec![("n".to_owned(), Value::from("2"))]);
    assert_eq!(delta.removed, vec!["user".to_owned()]);
    assert_eq!(next.idle_deadline, t(10).add(30 * MIN));
    // A renew writes a new record: that one always has the merged data.
    let s = resume(&core, &r, t(10)).session;
    s.insert("n", &3).unwrap();
    s.renew();
    let c = core.finish(&s, 200, t(10)).unwrap();
    let Some(Save::Create(new)) = &c.save else {
        panic!("{c:?}")
    };
    assert_eq!(new.data.get("n").map(|v| &v[..]), Some("3"));
    assert_eq!(new.data.get("user").map(|v| &v[..]), Some("\"alice\""));
}

#[test]
fn reads_see_the_requests_changes_over_the_loaded_data() {
    let core = core();
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.insert("n", &5).unwrap();
    s.insert("theme", "dark").unwrap();
    assert!(s.remove("user"));
    assert!(!s.remove("user"), "removed already");
    assert_eq!(s.get::<i64>("n").unwrap(), Some(5));
    assert_eq!(s.get::<String>("theme").unwrap().as_deref(), Some("dark"));
    assert_eq!(s.get::<String>("user").unwrap(), None);
    assert!(!s.is_empty());
    assert!(s.remove("n") && s.remove("theme"));
    assert!(s.is_empty(), "every key removed, loaded or new");
    s.insert("user", "carol").unwrap();
    assert_eq!(s.get::<String>("user").unwrap().as_deref(), Some("carol"));
    assert!(format!("{s:?}").contains("\"user\""));
    // The loaded record is not changed by the request.
    assert_eq!(r.data.get("user").map(|v| &v[..]), Some("\"alice\""));
}

#[test]
fn removing_the_last_key_is_an_update_not_a_delete() {
    let core = core();
    let mut r = stored(&core, 0);
    r.data.remove("n");
    let s = resume(&core, &r, t(10)).session;
    s.remove("user");
    let c = core.finish(&s, 200, t(10)).unwrap();
    assert!(matches!(c.save, Some(Save::Update(..))), "{c:?}");
    assert!(c.delete.is_none());
}

#[test]
fn persistent_cookies_refresh_max_age() {
    let config = SessionConfig::builder()
        .lifetime(CookieLifetime::Persistent)
        .build()
        .unwrap();
    let core = core_with(config);
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.insert("n", &5).unwrap();
    let c = core.finish(&s, 200, t(10)).unwrap();
    let cookie = core.set_cookie(&c, Some(&r.id.to_string()), t(10)).unwrap();
    assert!(cookie.contains("; Max-Age=1800; Expires="), "{cookie}");
    assert!(cookie.contains(" GMT"), "{cookie}");
}

#[test]
fn renew_creates_the_new_record_then_deletes_the_old() {
    let core = core();
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.renew();
    s.insert("user", "carol").unwrap();
    let c = core.finish(&s, 200, t(10)).unwrap();
    let Some(Save::Create(new)) = &c.save else {
        panic!("{c:?}")
    };
    assert_ne!(new.id, r.id);
    assert_eq!(
        new.created_at, r.created_at,
        "renew keeps the creation time"
    );
    assert_eq!(new.data["user"].as_ref(), "\"carol\"");
    assert_eq!(new.data["n"].as_ref(), "1");
    assert_eq!(c.delete, Some(r.id));
    let cookie = core
        .set_cookie(&c, Some(&new.id.to_string()), t(10))
        .unwrap();
    assert!(cookie.starts_with(&format!("session={};", new.id)));
}

#[test]
fn destroy_deletes_and_expires_the_cookie() {
    let core = core();
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.destroy();
    let c = core.finish(&s, 200, t(10)).unwrap();
    assert!(c.save.is_none());
    assert_eq!(c.delete, Some(r.id));
    let cookie = core.set_cookie(&c, None, t(10)).unwrap();
    assert!(cookie.starts_with("session=; Max-Age=0; Expires=Thu, 01 Jan 1970"));
    assert!(core.touches_cookie(&c));
}

#[test]
fn destroy_then_insert_starts_a_new_session() {
    let core = core();
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.destroy();
    s.flash().set("notice", "Logged out").unwrap();
    let c = core.finish(&s, 200, t(10)).unwrap();
    let Some(Save::Create(new)) = &c.save else {
        panic!("{c:?}")
    };
    assert_ne!(new.id, r.id);
    assert!(new.data.is_empty());
    assert_eq!(new.flash["notice"].as_ref(), "\"Logged out\"");
    assert_eq!(new.created_at, t(10));
    assert_eq!(c.delete, Some(r.id));
}

#[test]
fn clear_to_empty_deletes_clear_then_insert_updates() {
    let core = core();
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.clear();
    let c = core.finish(&s, 200, t(10)).unwrap();
    assert!(c.save.is_none());
    assert_eq!(c.delete, Some(r.id));
    assert!(core
        .set_cookie(&c, None, t(10))
        .unwrap()
        .contains("Max-Age=0"));

    let s = resume(&core, &r, t(10)).session;
    s.clear();
    s.insert("fresh", &true).unwrap();
    let c = core.finish(&s, 200, t(10)).unwrap();
    let Some(Save::Update(_, delta)) = &c.save else {
        panic!("{c:?}")
    };
    assert!(delta.cleared);
    assert_eq!(delta.set.len(), 1);
}

#[test]
fn server_errors_commit_nothing_unless_configured() {
    let core = core();
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.insert("n", &9).unwrap();
    let c = core.finish(&s, 503, t(10)).unwrap();
    assert!(c.save.is_none() && c.delete.is_none());

    let core = core_with(
        SessionConfig::builder()
            .commit_on_server_error(true)
            .build()
            .unwrap(),
    );
    let s = resume(&core, &r, t(10)).session;
    s.insert("n", &9).unwrap();
    let c = core.finish(&s, 500, t(10)).unwrap();
    assert!(matches!(c.save, Some(Save::Update(..))));
}

#[test]
fn unknown_token_gives_a_fresh_session_without_expiring_anything() {
    let core = core();
    let cookie = format!("session={}", SessionId::from_bytes([9; 24]));
    let start = core.start([cookie.as_bytes()]);
    assert!(start.token().is_some());
    let resumed = core.resume(start, None, t(0));
    assert!(resumed.timed_out.is_none());
    assert_eq!(resumed.session.id(), None);
    let c = core.finish(&resumed.session, 200, t(0)).unwrap();
    assert_eq!(core.set_cookie(&c, None, t(0)), None);
}

#[test]
fn a_record_for_another_id_is_ignored() {
    let core = core();
    let r = stored(&core, 0);
    let other = format!("session={}", SessionId::from_bytes([2; 24]));
    let resumed = core.resume(core.start([other.as_bytes()]), Some(r), t(10));
    assert_eq!(resumed.session.get::<String>("user").unwrap(), None);
}

#[test]
fn idle_timeout_redirects_or_starts_fresh() {
    let redirect = core_with(
        SessionConfig::builder()
            .on_timeout(OnTimeout::Redirect("/".into()))
            .build()
            .unwrap(),
    );
    let r = stored(&redirect, 0);
    // One millisecond before the deadline: still alive.
    let before = Timestamp::from_unix_millis(r.idle_deadline.unix_millis() - 1);
    assert!(resume(&redirect, &r, before).timed_out.is_none());
    let resumed = resume(&redirect, &r, r.idle_deadline);
    let timed_out = resumed.timed_out.expect("timed out at the deadline");
    assert_eq!(timed_out.delete, r.id);
    assert_eq!(timed_out.redirect.as_deref(), Some("/"));
    assert_eq!(resumed.session.get::<String>("user").unwrap(), None);

    let fresh = core();
    let r = stored(&fresh, 0);
    let resumed = resume(&fresh, &r, r.idle_deadline.add(MIN));
    assert_eq!(resumed.timed_out.as_ref().unwrap().redirect, None);
    let c = fresh.finish(&resumed.session, 200, t(0)).unwrap();
    assert!(fresh
        .set_cookie(&c, None, t(0))
        .unwrap()
        .contains("Max-Age=0"));
}

#[test]
fn absolute_timeout_ends_an_active_session() {
    let core = core_with(
        SessionConfig::builder()
            .absolute_timeout(Some(Duration::from_secs(3600)))
            .build()
            .unwrap(),
    );
    // Active a minute ago, but created an hour ago.
    let r = stored(&core, 3540);
    assert!(resume(&core, &r, t(3599)).timed_out.is_none());
    assert!(resume(&core, &r, t(3600)).timed_out.is_some());
    // Renew keeps created_at, so logging in again does not reset it.
    let s = resume(&core, &r, t(3000)).session;
    s.renew();
    let c = core.finish(&s, 200, t(3000)).unwrap();
    let Some(Save::Create(new)) = &c.save else {
        panic!()
    };
    assert_eq!(new.absolute_deadline, Some(t(3600)));
}

#[test]
fn bad_cookie_headers_never_load() {
    let core = core();
    let id = SessionId::from_bytes([1; 24]).to_string();
    let dup = format!("session={id}; session={id}");
    let long = format!("session={}", "A".repeat(8192));
    let short = format!("session={}", &id[..31]);
    let alphabet = format!("session={}+", &id[..31]);
    let cases: Vec<&[u8]> = vec![
        b"session",
        b"session=",
        dup.as_bytes(),
        long.as_bytes(),
        short.as_bytes(),
        alphabet.as_bytes(),
        b"session=\xff\xfe\xfd",
        b";;==;",
    ];
    for case in cases {
        assert!(
            core.start([case]).token().is_none(),
            "{:?}",
            String::from_utf8_lossy(case)
        );
    }
    // Quotes are stripped; other cookies are fine.
    let quoted = format!("a=1; session=\"{id}\"; b=2");
    assert_eq!(core.start([quoted.as_bytes()]).token(), Some(id.as_str()));
    // Split across two Cookie headers, still one session cookie.
    let second = format!("session={id}");
    assert_eq!(
        core.start([&b"a=1"[..], second.as_bytes()]).token(),
        Some(id.as_str())
    );
}

#[test]
fn a_header_holding_only_the_session_cookie_is_read_like_any_other() {
    let core = core();
    let id = SessionId::from_bytes([1; 24]).to_string();
    let other = SessionId::from_bytes([2; 24]).to_string();
    let lone = format!("session={id}");
    let start = core.start([lone.as_bytes()]);
    assert_eq!(start.token(), Some(id.as_str()));
    assert_eq!(start.id().map(ToString::to_string), Some(id.clone()));
    // Still counted: a second session cookie anywhere is cookie tossing.
    let twice = format!("session={other}");
    let tossed: [&[u8]; 2] = [lone.as_bytes(), twice.as_bytes()];
    assert!(core.start(tossed).token().is_none());
    let mixed = format!("a=1; session={other}");
    let tossed: [&[u8]; 2] = [lone.as_bytes(), mixed.as_bytes()];
    assert!(core.start(tossed).token().is_none());
    let tossed: [&[u8]; 2] = [mixed.as_bytes(), lone.as_bytes()];
    assert!(core.start(tossed).token().is_none());
    // The right length, but not one id: read pair by pair.
    let pairs = format!("session={}; a=1", &id[..27]);
    assert_eq!(pairs.len(), lone.len());
    assert!(core.start([pairs.as_bytes()]).token().is_none());
    let named = format!("sessioN={id}");
    let start = core.start([named.as_bytes()]);
    assert!(start.token().is_none());
    let cookies = core.resume(start, None, t(0)).session.cookies();
    assert_eq!(cookies.get("sessioN"), Some(id.clone()));
}

#[test]
fn flash_lives_for_exactly_one_request_that_uses_the_session() {
    let core = core();
    let mut r = stored(&core, 0);
    r.flash.insert("notice".into(), Value::from("\"hello\""));
    // A request that never touches the session leaves the flash alone.
    let s = resume(&core, &r, t(1)).session;
    let c = core.finish(&s, 200, t(1)).unwrap();
    assert!(c.save.is_none());
    assert!(!c.vary_cookie);
    // The next one that does reads it, and consumes it.
    let s = resume(&core, &r, t(2)).session;
    assert_eq!(
        s.flash().get::<String>("notice").unwrap().as_deref(),
        Some("hello")
    );
    s.flash().now("inline", "x").unwrap();
    let c = core.finish(&s, 200, t(2)).unwrap();
    let Some(Save::Update(next, delta)) = &c.save else {
        panic!("{c:?}")
    };
    assert_eq!(delta.flash_removed, vec!["notice".to_owned()]);
    assert!(delta.flash_set.is_empty(), "flash.now is never stored");
    assert!(next.flash.is_empty());
    // `keep` carries it one more request.
    let s = resume(&core, &r, t(3)).session;
    s.flash().keep("notice");
    let c = core.finish(&s, 200, t(3)).unwrap();
    assert!(c.save.is_none(), "nothing changed: {c:?}");
}

#[test]
fn a_finished_session_refuses_changes() {
    let core = core();
    let s = core.resume(core.start([]), None, t(0)).session;
    let _ = core.finish(&s, 200, t(0)).unwrap();
    assert!(matches!(s.insert("late", &1), Err(SessionError::Finished)));
    let again = core.finish(&s, 200, t(0)).unwrap();
    assert!(again.save.is_none());
}

#[test]
fn oversized_values_are_refused() {
    let core = core_with(
        SessionConfig::builder()
            .max_value_bytes(100)
            .build()
            .unwrap(),
    );
    let s = core.resume(core.start([]), None, t(0)).session;
    let err = s.insert("big", &"x".repeat(200)).unwrap_err();
    assert!(matches!(err, SessionError::ValueTooLarge { .. }), "{err}");
    assert_eq!(err.status(), 500);
}

#[test]
fn debug_output_hides_tokens() {
    let core = core();
    let r = stored(&core, 0);
    let resumed = resume(&core, &r, t(1));
    let shown = format!("{:?}", resumed.session);
    assert!(!shown.contains(&r.id.to_string()), "{shown}");
}

#[test]
fn response_cookies_follow_the_same_rules() {
    use session_core::cookie::SameSite;
    use session_core::{ConfigError, Cookie};
    let core = core();
    let s = core.resume(core.start([]), None, t(0)).session;
    let cookies = s.cookies();
    let bad = |c: Cookie<'static>| match cookies.add(c) {
        Err(SessionError::InvalidCookie(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        bad(Cookie::build(("__Host-a", "1")).path("/").build()),
        ConfigError::HostPrefix
    );
    assert_eq!(
        bad(Cookie::build(("__Secure-a", "1")).build()),
        ConfigError::SecurePrefix
    );
    assert_eq!(
        bad(Cookie::build(("a", "1")).same_site(SameSite::None).build()),
        ConfigError::SameSiteNoneNeedsSecure
    );
    assert!(matches!(
        bad(Cookie::build(("a", "1")).path("/x;y").build()),
        ConfigError::BadChar { .. }
    ));
    assert!(matches!(
        bad(Cookie::new("session", "x")),
        ConfigError::Invalid { .. }
    ));
    cookies
        .add(
            Cookie::build(("__Host-a", "v a;l"))
                .path("/")
                .secure(true)
                .build(),
        )
        .unwrap();
    let c = core.finish(&s, 200, t(0)).unwrap();
    assert_eq!(
        c.cookies,
        vec!["__Host-a=v%20a%3Bl; Secure; Path=/".to_owned()]
    );
    assert!(matches!(
        cookies.add(Cookie::new("late", "1")),
        Err(SessionError::Finished)
    ));
}

#[test]
fn a_bad_byte_in_another_cookie_does_not_cost_the_session() {
    let core = core();
    let id = SessionId::from_bytes([1; 24]).to_string();
    let mut header = b"junk=\xff\xfe; ".to_vec();
    header.extend_from_slice(format!("session={id}").as_bytes());
    assert_eq!(core.start([header.as_slice()]).token(), Some(id.as_str()));
}

#[test]
fn a_failed_delete_after_destroy_is_an_error_but_not_after_renew() {
    let core = core();
    let r = stored(&core, 0);
    let s = resume(&core, &r, t(10)).session;
    s.renew();
    assert!(core.finish(&s, 200, t(10)).unwrap().renewed);
    let s = resume(&core, &r, t(10)).session;
    s.destroy();
    s.flash().set("notice", "bye").unwrap();
    assert!(!core.finish(&s, 200, t(10)).unwrap().renewed);
}
