//! The record codec against a reference: the plain codec this crate used
//! before (`fmt` for the id and integers, `serde_json` for every key, a
//! derived decoder collecting `BTreeMap<String, &RawValue>` then rebuilding
//! the maps). `Record::encode` must write its bytes exactly and
//! `Record::decode` must give its results (records, and error variants),
//! on edge cases, on random records and on damaged encodings.

use std::collections::BTreeMap;
use std::io::Write as _;

use proptest::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use session_core::{Data, DecodeError, Record, SessionId, Timestamp, Value, RECORD_VERSION};

/// The reference writer.
fn reference_encode(r: &Record) -> Vec<u8> {
    fn write_data(out: &mut Vec<u8>, data: &Data) {
        out.push(b'{');
        for (n, (key, value)) in data.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, key).expect("a str serializes");
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
        }
        out.push(b'}');
    }
    let mut out = vec![RECORD_VERSION];
    write!(
        out,
        "{{\"i\":\"{}\",\"c\":{},\"d\":{},\"a\":",
        r.id,
        r.created_at.unix_millis(),
        r.idle_deadline.unix_millis()
    )
    .expect("a Vec takes it");
    match r.absolute_deadline {
        Some(a) => write!(out, "{}", a.unix_millis()),
        None => write!(out, "null"),
    }
    .expect("a Vec takes it");
    write!(out, ",\"k\":{},\"v\":", r.keep_until.unix_millis()).expect("a Vec takes it");
    write_data(&mut out, &r.data);
    out.extend_from_slice(b",\"f\":");
    write_data(&mut out, &r.flash);
    out.push(b'}');
    out
}

/// The reference reader.
fn reference_decode(bytes: &[u8]) -> Result<Record, DecodeError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wire<'a> {
        #[serde(borrow)]
        i: &'a str,
        c: i64,
        d: i64,
        a: Option<i64>,
        k: i64,
        #[serde(borrow)]
        v: BTreeMap<String, &'a RawValue>,
        #[serde(borrow)]
        f: BTreeMap<String, &'a RawValue>,
    }
    let body = match bytes.split_first() {
        None => return Err(DecodeError::Empty),
        Some((&RECORD_VERSION, body)) => body,
        Some((&v, _)) => return Err(DecodeError::UnknownVersion(v)),
    };
    let wire: Wire<'_> = serde_json::from_slice(body).map_err(DecodeError::Json)?;
    let id = SessionId::parse(wire.i).ok_or(DecodeError::BadId)?;
    let conv = |m: BTreeMap<String, &RawValue>| -> Data {
        m.into_iter()
            .map(|(k, v)| (k, Value::from(v.get())))
            .collect()
    };
    Ok(Record {
        id,
        data: conv(wire.v),
        flash: conv(wire.f),
        created_at: Timestamp::from_unix_millis(wire.c),
        idle_deadline: Timestamp::from_unix_millis(wire.d),
        absolute_deadline: wire.a.map(Timestamp::from_unix_millis),
        keep_until: Timestamp::from_unix_millis(wire.k),
    })
}

/// Encodes `r` every way there is and checks each against the reference.
fn encodes_as_the_reference(r: &Record) {
    let want = reference_encode(r);
    let got = r.encode();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    let mut appended = b"xyz".to_vec();
    r.encode_into(&mut appended);
    assert_eq!(appended[..3], *b"xyz");
    assert_eq!(appended[3..], want[..]);
    let mut roomy = Vec::with_capacity(8192);
    r.encode_into(&mut roomy);
    assert_eq!(roomy, want);
    let mut body = Vec::new();
    r.encode_body(&mut body);
    assert_eq!(body, want[1..]);
    assert_eq!(Record::decode(&got).as_ref().ok(), Some(r));
    assert_eq!(Record::decode_body(&body).as_ref().ok(), Some(r));
}

/// `Record::decode` gives what the reference gives for `bytes`.
fn decodes_as_the_reference(bytes: &[u8]) -> Result<(), String> {
    let got = Record::decode(bytes);
    let want = reference_decode(bytes);
    match (&got, &want) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(a), Err(b)) if std::mem::discriminant(a) == std::mem::discriminant(b) => Ok(()),
        _ => Err(format!(
            "decoders disagree on {:?}: {got:?} vs reference {want:?}",
            String::from_utf8_lossy(bytes)
        )),
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms)
}

#[test]
fn writes_the_reference_encoding_on_edge_cases() {
    let mut data = Data::new();
    for key in [
        "",
        "plain",
        "é ü",
        "日本語 🎉",
        "q\"uote",
        "back\\slash",
        "\\\"",
        "\u{0}\u{1f}\n\t\r\u{8}\u{c}\u{7f}",
        "/",
        "\u{2028}\u{2029}\u{feff}",
    ] {
        data.insert(key.to_owned(), Value::from("[1,\"x\"]"));
    }
    // Nested JSON values, stored as their texts.
    data.insert(
        "nested".into(),
        Value::from(r#"{"a":[1,{"b":null,"c":"]}\"\\"}],"d":{"e":{}}}"#),
    );
    data.insert("empty object".into(), Value::from("{}"));
    data.insert("empty array".into(), Value::from("[]"));
    data.insert("unicode value".into(), Value::from("\"é \\u00e9 🎉\""));
    data.insert("number".into(), Value::from("-1.5e-7"));
    for (t, a) in [
        (0, None),
        (i64::MIN, Some(i64::MAX)),
        (i64::MAX, Some(i64::MIN)),
        (-1, Some(-10)),
        (-1_750_000_000_000, None),
        (9, Some(1_750_000_000_000)),
    ] {
        let record = Record {
            id: SessionId::from_bytes([0xfb; 24]),
            data: data.clone(),
            flash: data.clone(),
            created_at: ts(t),
            idle_deadline: ts(t.wrapping_add(1)),
            absolute_deadline: a.map(ts),
            keep_until: ts(t.wrapping_sub(1)),
        };
        encodes_as_the_reference(&record);
        // Empty maps.
        encodes_as_the_reference(&Record {
            data: Data::new(),
            flash: Data::new(),
            ..record.clone()
        });
        encodes_as_the_reference(&Record {
            flash: Data::new(),
            ..record
        });
    }
}

const ID: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn body(rest: &str) -> String {
    format!("\u{1}{{\"i\":\"{ID}\",\"c\":1,\"d\":2,{rest}}}")
}

#[test]
fn decodes_as_the_reference_on_edge_cases() {
    let mut cases = vec![
        body(r#""a":null,"k":3,"v":{"b":1,"a":"x"},"f":{}"#),
        body(r#""a":7,"k":3,"v":{"a":1,"a":2},"f":{"n":{"x":[1,{"y":"]"}]}}"#),
        body(r#""k":3,"v":{},"f":{}"#),
        body(r#""a":null,"k":3,"v":{"é\n\"":" 1 "},"f":{}"#),
        body(r#""a":null,"k":3,"v":{"q\"\\\u0000\u001f":true},"f":{}"#),
        body(r#""a":null,"k":3,"v":{"🎉":"\ud83c\udf89"},"f":{}"#),
        body(r#""a":null,"k":-9223372036854775808,"v":{},"f":{}"#),
        body(r#""a":9223372036854775807,"k":-1,"v":{},"f":{}"#),
        // Malformed: each must fail the same way.
        body(r#""a":null,"k":9223372036854775808,"v":{},"f":{}"#),
        body(r#""a":null,"k":3,"v":{},"f":{},"z":1"#),
        body(r#""a":null,"k":3,"v":[],"f":{}"#),
        body(r#""a":null,"k":3,"v":{"a":},"f":{}"#),
        body(r#""a":null,"k":3,"v":{"a":1,},"f":{}"#),
        body(r#""a":null,"k":3,"v":{1:1},"f":{}"#),
        body(r#""a":null,"k":3.5,"v":{},"f":{}"#),
        body(r#""a":"7","k":3,"v":{},"f":{}"#),
        body(r#""a":null,"k":3,"v":{},"f":{},"v":{}"#),
        body(r#""a":null,"k":3,"f":{}"#),
        body(r#""a":null,"k":3,"v":null,"f":{}"#),
        "\u{1}{\"i\":\"short\",\"c\":1,\"d\":2,\"a\":null,\"k\":3,\"v\":{},\"f\":{}}".to_owned(),
        format!(
            "\u{1}{{\"i\":\"{}\\u0041\",\"c\":1,\"d\":2,\"a\":null,\"k\":3,\"v\":{{}},\"f\":{{}}}}",
            &ID[1..]
        ),
        format!("{} ", body(r#""a":null,"k":3,"v":{},"f":{}"#)),
        format!("{}x", body(r#""a":null,"k":3,"v":{},"f":{}"#)),
        "\u{2}{}".to_owned(),
        "\u{0}".to_owned(),
        "\u{1}".to_owned(),
        "\u{1}{}".to_owned(),
        "\u{1}{\"i\":1}".to_owned(),
        String::new(),
    ];
    let valid = body(r#""a":null,"k":3,"v":{"x":[1,2]},"f":{"y":"z"}"#);
    for cut in 0..valid.len() {
        cases.push(valid[..cut].to_owned());
    }
    for case in &cases {
        decodes_as_the_reference(case.as_bytes()).unwrap();
    }
    decodes_as_the_reference(b"\x01{\"i\":\"\xff\"}").unwrap();
    decodes_as_the_reference(&[0x01, b'{', 0xc3]).unwrap();
}

#[test]
fn nesting_and_whitespace_decode_as_the_reference() {
    for depth in [1, 2, 63, 64, 65, 100, 125, 126, 127, 128, 129, 200] {
        for (open, close) in [("[", "]"), ("{\"k\":[", "]}")] {
            let v = format!("{}{}", open.repeat(depth), close.repeat(depth));
            let case = body(&format!(r#""a":null,"k":3,"v":{{"x":{v}}},"f":{{}}"#));
            decodes_as_the_reference(case.as_bytes()).unwrap();
        }
    }
    for ws in [" ", "\n", "\t", "\r", "\u{b}", "\u{a0}"] {
        let canonical = r#"{"i":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","c":1,"d":2,"a":null,"k":3,"v":{"x":[1,{"y":"z"}]},"f":{}}"#;
        for at in 0..=canonical.len() {
            let mut case = String::from("\u{1}");
            case.push_str(&canonical[..at]);
            case.push_str(ws);
            case.push_str(&canonical[at..]);
            decodes_as_the_reference(case.as_bytes()).unwrap();
        }
    }
}

#[test]
fn edge_cases_decode_as_the_format_says() {
    let r = Record::decode(body(r#""a":7,"k":3,"v":{"b":1,"a":2,"a":3},"f":{}"#).as_bytes())
        .expect("valid");
    assert_eq!(r.data.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(
        r.data["a"].as_ref(),
        "3",
        "a repeated key keeps its last value"
    );
    assert_eq!(r.absolute_deadline, Some(ts(7)));
    assert_eq!(r.keep_until, ts(3));

    let r = Record::decode(body(r#""k":3,"v":{},"f":{}"#).as_bytes()).expect("valid");
    assert_eq!(r.absolute_deadline, None, "a missing \"a\" is null");
    assert!(r.data.is_empty() && r.flash.is_empty());

    let r = Record::decode(body(r#""a":null,"k":3,"v":{"\u00e9\n":" 1 "},"f":{}"#).as_bytes())
        .expect("valid");
    assert_eq!(
        r.data["é\n"].as_ref(),
        "\" 1 \"",
        "keys are unescaped, values kept as JSON text"
    );

    let r =
        Record::decode(body(r#""a":null,"k":3,"v":{},"f":{"n":{"x":[1,{"y":"]"}]}}"#).as_bytes())
            .expect("valid");
    assert_eq!(r.flash["n"].as_ref(), r#"{"x":[1,{"y":"]"}]}"#);

    let r = Record::decode(body(r#""a":-1,"k":-9223372036854775808,"v":{},"f":{}"#).as_bytes())
        .expect("valid");
    assert_eq!(r.absolute_deadline, Some(ts(-1)));
    assert_eq!(r.keep_until, ts(i64::MIN));

    assert!(matches!(Record::decode(&[]), Err(DecodeError::Empty)));
    assert!(matches!(
        Record::decode(b"\x02{}"),
        Err(DecodeError::UnknownVersion(2))
    ));
    assert!(matches!(
        Record::decode(body(r#""a":null,"k":3,"v":[],"f":{}"#).as_bytes()),
        Err(DecodeError::Json(_))
    ));
    assert!(matches!(
        Record::decode(
            "\u{1}{\"i\":\"short\",\"c\":1,\"d\":2,\"a\":null,\"k\":3,\"v\":{},\"f\":{}}"
                .as_bytes()
        ),
        Err(DecodeError::BadId)
    ));
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a str serializes")
}

/// JSON texts as the core stores them (compact, any Unicode, nested).
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("null".to_owned()),
        any::<String>().prop_map(|s| json_string(&s)),
        "[a-z ]{0,300}".prop_map(|s| json_string(&s)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::to_string(&f).expect("finite")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((any::<String>(), inner), 0..4).prop_map(|v| {
                let fields: Vec<String> = v
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", json_string(k)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// Keys: anything, and often the characters that need escaping.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z_]{0,12}",
        "[\"\\\\\\x00-\\x1f\\x7fa-zé🎉]{0,8}",
    ]
}

fn data() -> impl Strategy<Value = Data> {
    prop::collection::btree_map(key(), json_value().prop_map(Value::from), 0..10)
        .prop_map(Data::from)
}

/// Timestamps: anything, and often the extremes and negatives.
fn millis() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        -2_000_000_000_000..0i64,
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        any::<[u8; 24]>(),
        data(),
        data(),
        millis(),
        millis(),
        prop::option::of(millis()),
        millis(),
    )
        .prop_map(|(id, data, flash, c, d, a, k)| Record {
            id: SessionId::from_bytes(id),
            data,
            flash,
            created_at: ts(c),
            idle_deadline: ts(d),
            absolute_deadline: a.map(ts),
            keep_until: ts(k),
        })
}

/// Pieces of JSON, valid and not, to shuffle together.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "\"",
        "\"a\"",
        "\"\\u00e9\"",
        "\"\\ud800\"",
        "\"\\uDC00\\u0041\"",
        "\"\\n\\\"\"",
        "\\",
        "\\u",
        "\\u12",
        "\\uD83D\\uDE00",
        "\\\"",
        "\\/",
        "\\b",
        "\\x",
        "\\0",
        "\\a",
        "\\U",
        "x",
        "0",
        "-",
        "1",
        "9",
        ".",
        "e",
        "E",
        "+",
        "true",
        "false",
        "null",
        "fals",
        "nul",
        " ",
        "\n",
        "\"\u{1}\"",
        "\u{1f}",
        "\u{7f}",
        "é",
        "01",
        "1.5",
        "-0",
        "9223372036854775808",
        "-9223372036854775809",
        "\"k\":",
        "{}",
        "[]",
    ])
}

/// JSON strings, well formed or not: escapes of every letter, `\\u` with
/// too few digits or a surrogate, control characters, no closing quote.
fn string_token() -> impl Strategy<Value = String> {
    concat!(
        "\"(",
        "\\\\[\"\\\\/bfnrtuxa0U ]|\\\\u[0-9A-Fa-f]{4}|\\\\u[0-9A-Fa-f]{0,3}|",
        "\\\\u[dD][89abcdefABCDEF][0-9a-f]{2}|[a \\x00-\\x1f\\x7fé\"]",
        "){0,4}\"?",
    )
}

/// Numbers, well formed or not.
fn number_token() -> impl Strategy<Value = String> {
    "[-+]?[0-9]{0,3}(\\.[0-9]{0,2})?([eE][-+]?[0-9]{0,2})?"
}

/// Literals, well formed or not.
fn literal_token() -> impl Strategy<Value = String> {
    "(t|tr|tru|true|truex|True|n|nul|null|nulll|f|fals|false|falsee)"
}

fn soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => token().prop_map(str::to_owned),
        1 => string_token(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn token_soup_decodes_as_the_reference(value in soup(), key in soup(), field in soup()) {
        for case in [
            body(&format!(r#""a":null,"k":3,"v":{{"x":{value}}},"f":{{}}"#)),
            body(&format!(r#""a":null,"k":3,"v":{{"x":1,"y":{value},"z":[]}},"f":{{}}"#)),
            body(&format!(r#""a":null,"k":3,"v":{{{key}:1}},"f":{{}}"#)),
            body(&format!(r#""a":{field},"k":3,"v":{{}},"f":{{}}"#)),
            body(&format!(r#""a":null,"k":{field},"v":{{}},"f":{{"x":{value}}}"#)),
            body(&format!(r#""a":null,"k":3,"v":{value},"f":{{}}"#)),
            format!("\u{1}{{\"i\":{field},\"c\":1,\"d\":2,\"a\":null,\"k\":3,\"v\":{{}},\"f\":{{}}}}"),
        ] {
            if let Err(why) = decodes_as_the_reference(case.as_bytes()) {
                prop_assert!(false, "{}", why);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn strings_numbers_and_literals_decode_as_the_reference(
        string in string_token(),
        number in number_token(),
        literal in literal_token(),
    ) {
        let mut cases = Vec::new();
        for t in [&string, &number, &literal] {
            for v in [
                format!(r#"{{"x":{t}}}"#),
                format!(r#"{{"x":[1,{t}]}}"#),
                format!(r#"{{"x":{{"y":{t}}}}}"#),
                format!(r#"{{"x":{{{t}:1}}}}"#),
                format!(r#"{{{t}:1}}"#),
            ] {
                cases.push(body(&format!(r#""a":null,"k":3,"v":{v},"f":{{}}"#)));
            }
            cases.push(body(&format!(r#""a":{t},"k":3,"v":{{}},"f":{{}}"#)));
            cases.push(body(&format!(r#""a":null,"k":{t},"v":{{}},"f":{{}}"#)));
            cases.push(format!(
                "\u{1}{{\"i\":{t},\"c\":1,\"d\":2,\"a\":null,\"k\":3,\"v\":{{}},\"f\":{{}}}}"
            ));
        }
        for case in &cases {
            if let Err(why) = decodes_as_the_reference(case.as_bytes()) {
                prop_assert!(false, "{}", why);
            }
        }
    }
}

proptest! {
    #[test]
    fn encoding_is_the_reference_encoding(r in record()) {
        let want = reference_encode(&r);
        prop_assert_eq!(&r.encode(), &want);
        let mut out = vec![0xAA];
        r.encode_into(&mut out);
        prop_assert_eq!(&out[1..], &want[..]);
        prop_assert_eq!(Record::decode(&want).ok(), Some(r));
    }

    #[test]
    fn decoding_damaged_bytes_agrees_with_the_reference(
        r in record(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..3),
    ) {
        let mut bytes = r.encode();
        for (at, byte, how) in edits {
            let i = at.index(bytes.len() + 1);
            match how {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => bytes.truncate(i),
            }
        }
        if let Err(why) = decodes_as_the_reference(&bytes) {
            prop_assert!(false, "{}", why);
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_agrees_with_the_reference(
        mut bytes in prop::collection::vec(any::<u8>(), 0..200),
        versioned in any::<bool>(),
    ) {
        if versioned && !bytes.is_empty() {
            bytes[0] = RECORD_VERSION;
        }
        if let Err(why) = decodes_as_the_reference(&bytes) {
            prop_assert!(false, "{}", why);
        }
    }
}
