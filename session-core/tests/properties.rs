//! Property tests: whatever a handler does, the delta the core commits,
//! applied to the stored record, gives exactly the handler's final data;
//! and the record encoding round-trips, edge cases included (see also
//! `codec.rs`, which checks the encoding byte for byte).

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use session_core::{Data, Record, Save, SessionConfig, SessionCore, SessionId, Timestamp, Value};

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, i64),
    Remove(u8),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, any::<i64>()).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => (0u8..6).prop_map(Op::Remove),
        1 => Just(Op::Clear),
    ]
}

fn record(initial: &[(u8, i64)]) -> Record {
    let mut data = Data::new();
    for (k, v) in initial {
        data.insert(format!("k{k}"), Value::from(v.to_string()));
    }
    let now = Timestamp::from_unix_millis(1_000_000);
    Record {
        id: SessionId::from_bytes([5; 24]),
        data,
        flash: Data::new(),
        created_at: now,
        idle_deadline: now.add(Duration::from_secs(1800)),
        absolute_deadline: None,
        keep_until: now.add(Duration::from_secs(3600)),
    }
}

/// Keys with quotes, backslashes, control characters and any Unicode.
fn edge_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[\"\\\\\\x00-\\x1f\\x7f]{0,6}",
        "[a\"\\\\\\nλé🎉\\u{2028}]{0,10}",
        any::<String>(),
    ]
}

/// JSON texts: scalars, unicode strings, and nested arrays and objects
/// (empty ones too).
fn edge_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3)
                .prop_map(|v| format!("[{}]", v.join(","))),
            proptest::collection::vec((edge_key(), inner), 0..3).prop_map(|v| {
                let fields: Vec<String> = v
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
    .prop_map(Value::from)
}

/// Milliseconds: the i64 extremes, negatives, and anything.
fn edge_millis() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(-1i64),
        Just(0i64),
        i64::MIN..0,
        any::<i64>(),
    ]
}

proptest! {
    #[test]
    fn delta_reproduces_the_handlers_data(
        initial in proptest::collection::vec((0u8..6, any::<i64>()), 0..6),
        ops in proptest::collection::vec(op(), 0..12),
    ) {
        let core = SessionCore::new(SessionConfig::default(), false);
        let stored = record(&initial);
        let cookie = format!("session={}", stored.id);
        let now = Timestamp::from_unix_millis(1_000_500);
        let s = core.resume(core.start([cookie.as_bytes()]), Some(stored.clone()), now).session;
        for op in &ops {
            match op {
                Op::Insert(k, v) => s.insert(format!("k{k}"), v).unwrap(),
                Op::Remove(k) => { s.remove(&format!("k{k}")); }
                Op::Clear => s.clear(),
            }
        }
        // What the handler sees at the end.
        let mut expected = Data::new();
        for k in 0u8..6 {
            if let Some(v) = s.get_value(&format!("k{k}")) {
                expected.insert(format!("k{k}"), v);
            }
        }
        let commit = core.finish(&s, 200, now).unwrap();
        let result = match &commit.save {
            Some(Save::Update(next, delta)) => {
                let mut merged = stored.clone();
                merged.apply(delta, next);
                Some(merged.data)
            }
            None if commit.delete == Some(stored.id) => None,
            None => Some(stored.data.clone()),
            other => panic!("unexpected save {other:?}"),
        };
        match result {
            Some(data) => prop_assert_eq!(data, expected),
            None => prop_assert!(expected.is_empty(), "deleted a non-empty session"),
        }
    }

    #[test]
    fn encoding_round_trips(
        entries in proptest::collection::btree_map("\\PC{0,12}", any::<i64>(), 0..8),
        text in "\\PC{0,40}",
        abs in proptest::option::of(any::<i32>()),
    ) {
        let mut r = record(&[]);
        for (k, v) in &entries {
            r.data.insert(k.clone(), Value::from(v.to_string()));
        }
        r.flash.insert(text.clone(), Value::from(serde_json::to_string(&text).unwrap()));
        r.absolute_deadline = abs.map(|a| Timestamp::from_unix_millis(i64::from(a)));
        prop_assert_eq!(Record::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn encoding_round_trips_edge_cases(
        data in proptest::collection::btree_map(edge_key(), edge_value(), 0..8),
        flash in proptest::collection::btree_map(edge_key(), edge_value(), 0..3),
        times in (edge_millis(), edge_millis(), proptest::option::of(edge_millis()), edge_millis()),
        id in any::<[u8; 24]>(),
    ) {
        let (c, d, a, k) = times;
        let r = Record {
            id: SessionId::from_bytes(id),
            data: data.into(),
            flash: flash.into(),
            created_at: Timestamp::from_unix_millis(c),
            idle_deadline: Timestamp::from_unix_millis(d),
            absolute_deadline: a.map(Timestamp::from_unix_millis),
            keep_until: Timestamp::from_unix_millis(k),
        };
        let bytes = r.encode();
        prop_assert!(std::str::from_utf8(&bytes).is_ok(), "the encoding is UTF-8");
        let mut appended = vec![7];
        r.encode_into(&mut appended);
        prop_assert_eq!(&appended[1..], &bytes[..]);
        prop_assert_eq!(Record::decode(&bytes).unwrap(), r);
    }

    #[test]
    fn garbage_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        // Seeded with the cookie name so the token path is exercised.
        let mut bytes = b"session=".to_vec();
        bytes.extend_from_slice(&tail);
        let _ = Record::decode(&tail);
        let core = SessionCore::new(SessionConfig::default(), false);
        let start = core.start([bytes.as_slice()]);
        if let Some(t) = start.token() {
            prop_assert!(SessionId::parse(t).is_some());
        }
        let _ = Arc::new(start);
    }
}
