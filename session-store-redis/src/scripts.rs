//! The Lua scripts that make create and update atomic, one round trip each.
//!
//! Both take the session's key as `KEYS[1]` (one key, so a script never
//! crosses cluster slots) and the arguments built in `layout`.

use redis::Script;

use crate::keys::Key;
use crate::layout::LAYOUT_VERSION;
use crate::resp::Command;

/// The key, for every script. Lists that may be long are sent in slices
/// of 1000 values (`for i = from, to, 1000`): Redis' Lua limits how many
/// values `unpack` may put on the stack (8000), and the slice length is
/// even, so field/value pairs are never split. A plain loop rather than a
/// helper function: a script's helper is a new closure on every call,
/// Redis CPU that the common write (no slicing at all) would pay.
const PRELUDE: &str = "local key = KEYS[1]\n";

/// Insert only if absent: returns 0 when the key exists (any type), 1 after
/// writing the hash and its expiry.
///
/// ARGV: meta, keep-until (unix ms), then field/value pairs.
const CREATE: &str = r"
if redis.call('EXISTS', key) == 1 then
  return 0
end
redis.call('HSET', key, 'm', ARGV[1])
for i = 3, #ARGV, 1000 do
  redis.call('HSET', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('PEXPIREAT', key, ARGV[2])
return 1
";

/// Apply a delta if the session still exists: returns nil (never writes)
/// when the key is missing or is not a hash whose meta line has this
/// layout's version, so a request that raced a logout cannot resurrect the
/// session, and a record of a later layout is never rewritten by this one.
/// Touch is this script with an empty delta.
///
/// ARGV: meta, keep-until, cleared ('1'/'0'), n, n fields to delete, then
/// field/value pairs to set.
const UPDATE: &str = r"
-- pcall: a key of another type is foreign data (nil, write nothing); any
-- other error (ACL, OOM, ...) goes back to the caller as an error.
local meta = redis.pcall('HGET', key, 'm')
if type(meta) ~= 'string' then
  if type(meta) == 'table' and meta.err and string.sub(meta.err, 1, 9) ~= 'WRONGTYPE' then
    return redis.error_reply(meta.err)
  end
  return false
end
if string.sub(meta, 1, #PREFIX) ~= PREFIX then
  return false
end
if ARGV[3] == '1' then
  local doomed = {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'd:' then
      doomed[#doomed + 1] = field
    end
  end
  for i = 1, #doomed, 1000 do
    redis.call('HDEL', key, unpack(doomed, i, math.min(i + 999, #doomed)))
  end
end
-- The common delta (no removals, a few values) takes one HSET and no
-- other call: each Lua call and table here is Redis CPU on every write.
local n = tonumber(ARGV[4])
for i = 5, 4 + n, 1000 do
  redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 999, 4 + n)))
end
-- The meta line and the first values in one HSET (the whole delta, for
-- all but huge ones); an even slice, so pairs stay whole.
local first = 5 + n
local last = #ARGV
if last > first + 997 then
  last = first + 997
end
redis.call('HSET', key, 'm', ARGV[1], unpack(ARGV, first, last))
for i = last + 1, #ARGV, 1000 do
  redis.call('HSET', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('PEXPIREAT', key, ARGV[2])
return 1
";

/// A script and its SHA1, for `EVALSHA` with an `EVAL` fallback.
pub(crate) struct Lua {
    source: String,
    sha: String,
}

impl Lua {
    fn new(body: &str) -> Self {
        let source = format!("{PRELUDE}{body}");
        let sha = Script::new(&source).get_hash().to_owned();
        Self { source, sha }
    }

    pub(crate) fn create() -> Self {
        Self::new(CREATE)
    }

    pub(crate) fn update() -> Self {
        // The meta prefix as a literal: building it in Lua (`VERSION .. ' '`)
        // would intern a new string on every call.
        Self::new(&format!("local PREFIX = '{LAYOUT_VERSION} '\n{UPDATE}"))
    }

    /// `EVALSHA sha 1 key` (or `EVAL source 1 key` when `by_hash` is false),
    /// ready for the arguments.
    pub(crate) fn command(&self, by_hash: bool, key: &Key<'_>) -> Command {
        let mut cmd = if by_hash {
            let mut c = Command::new("EVALSHA");
            c.arg(self.sha.as_bytes());
            c
        } else {
            let mut c = Command::new("EVAL");
            c.arg(self.source.as_bytes());
            c
        };
        cmd.arg(b"1").arg_key(key);
        cmd
    }
}
