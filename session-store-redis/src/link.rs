//! The single-node connection: one socket shared by every request, the
//! commands of concurrent requests written together, replies handed back
//! in order.
//!
//! Every request hands its encoded command to one task. With nothing in
//! flight, that task writes the command at once. With replies outstanding
//! (Redis busy), it first lets the other requests that are ready right
//! now run (one turn of the run queue), then writes everything queued in
//! one system call: one socket write and one read for many requests,
//! where one command per write costs a system call and a loopback or
//! network wake-up each. The same task reads the replies
//! ([`wire`](crate::wire)) and sends each to its caller, so a command
//! passes through one task, not the three of a batcher on top of a
//! general client.
//!
//! Every command carries its deadline (the store's timeout from when the
//! operation began), and the task enforces it with one timer for the
//! whole connection rather than one per command: a timer is a lock and
//! a wheel entry each time it is set, more than a request's whole parse
//! of its reply. The timer is set for the earliest deadline among the
//! commands in flight, and only moved when it fires, so under load it
//! fires about once per timeout. A command still queued at its deadline
//! fails as timed out without being sent, and an attempt to connect lasts
//! no longer than the earliest deadline among the commands waiting for
//! it, so no command waits out someone else's attempt and then a timeout
//! of its own.
//!
//! The connection is made on the first command and again after it breaks
//! (Redis restarted, a malformed or oversized reply) or stalls: when a
//! command in flight is past its deadline, or a write does not finish
//! within the timeout, every command in flight fails and the next goes out
//! on a fresh connection. A command in flight when its connection breaks
//! fails with an I/O error, which
//! [`Conn::answer`](crate::conn::Conn::answer) tries once more within the
//! same deadline; one on a stalled connection fails as timed out, and is
//! not retried.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use redis::{ConnectionAddr, ConnectionInfo, RedisError, RedisResult};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::resp::Command;
use crate::wire::{self, Reply};

/// The most commands in one write.
const MAX_BATCH: usize = 64;

/// The read buffer's starting size; it grows for larger replies.
const READ_BUF: usize = 16 * 1024;

struct Job {
    bytes: Vec<u8>,
    reply: oneshot::Sender<Reply>,
    deadline: Instant,
}

/// A handle on the connection's task. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Link {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Link {
    /// Starts the task for the server `info` names. Needs a Tokio
    /// runtime; the task ends when the last handle is dropped. Connects
    /// on the first command, each attempt bounded by `timeout`.
    pub(crate) fn spawn(info: ConnectionInfo, timeout: Duration) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(Endpoint { info, timeout }, queue));
        Self { jobs }
    }

    /// True once the task has stopped (its runtime shut down).
    pub(crate) fn is_closed(&self) -> bool {
        self.jobs.is_closed()
    }

    /// Sends one packed command and waits for its reply; a server error
    /// is `Err`, and so is no reply by `deadline` (an I/O error of kind
    /// `TimedOut`).
    pub(crate) async fn send(&self, bytes: Vec<u8>, deadline: Instant) -> Reply {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                bytes,
                reply,
                deadline,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Where to connect and how long connecting may take.
struct Endpoint {
    info: ConnectionInfo,
    timeout: Duration,
}

/// What the task can be woken by.
enum Event {
    Read(io::Result<usize>),
    Job(Job),
    /// The timer set for the earliest deadline in flight went off.
    Deadline,
}

async fn run(end: Endpoint, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut live: Option<Live> = None;
    let mut batch = Vec::with_capacity(8);
    let mut out = Vec::new();
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    let mut timer_set = false;
    loop {
        let event = match &mut live {
            None => queue.recv().await.map(Event::Job),
            // Connected: replies first, and a closed socket (Redis
            // restarted) is noticed even with nothing in flight.
            Some(conn) => tokio::select! {
                biased;
                read = conn.io.read_buf(&mut conn.buf) => Some(Event::Read(read)),
                () = &mut timer, if timer_set => Some(Event::Deadline),
                job = queue.recv() => job.map(Event::Job),
            },
        };
        let first = match event {
            // Every handle is gone: nobody can send again.
            None => return,
            Some(Event::Read(read)) => {
                if let Some(conn) = &mut live {
                    let outcome = match read {
                        Ok(0) => Err(io_error(
                            io::ErrorKind::ConnectionReset,
                            "Redis closed the connection",
                        )),
                        Ok(_) => conn.dispatch(),
                        Err(e) => Err(e.into()),
                    };
                    if let Err(e) = outcome {
                        fail(live.take(), &e);
                    }
                }
                continue;
            }
            Some(Event::Deadline) => {
                timer_set = false;
                let now = Instant::now();
                match live.as_ref().and_then(Live::earliest) {
                    Some(deadline) if deadline <= now => fail(live.take(), &timed_out()),
                    Some(deadline) => {
                        timer.as_mut().reset(deadline.into());
                        timer_set = true;
                    }
                    None => {}
                }
                continue;
            }
            Some(Event::Job(job)) => job,
        };
        // While replies are outstanding Redis is busy anyway: the other
        // connections' requests that are ready now get to run and queue
        // their commands behind this one. With none, Redis is idle, and
        // the command goes out at once.
        if live.as_ref().is_some_and(|c| !c.waiting.is_empty()) {
            run_queue_turn().await;
        }
        batch.push(first);
        while batch.len() < MAX_BATCH {
            let Ok(job) = queue.try_recv() else { break };
            batch.push(job);
        }
        // A caller that gave up needs no round trip, and one past its
        // deadline (it waited for a connection) gets its answer now.
        let now = Instant::now();
        batch.retain(|job: &Job| !job.reply.is_closed());
        expire(&mut batch, now);
        if batch.is_empty() {
            continue;
        }
        if live.as_ref().is_some_and(|c| c.stalled(now)) {
            fail(live.take(), &timed_out());
        }
        if live.is_none() {
            // No longer than the most urgent command can wait, so that
            // commands queued behind a connection that never comes still
            // fail by their own deadlines.
            let until = batch.iter().map(|job| job.deadline).min().unwrap_or(now);
            match end.connect(until).await {
                Ok(conn) => live = Some(conn),
                Err(e) => {
                    for job in batch.drain(..) {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                    continue;
                }
            }
            // Connecting took time: a command that expired meanwhile is
            // not sent, so it cannot set off the timer and cost the fresh
            // connection.
            expire(&mut batch, Instant::now());
            if batch.is_empty() {
                continue;
            }
        }
        let Some(conn) = &mut live else { continue };
        out.clear();
        for job in batch.drain(..) {
            out.extend_from_slice(&job.bytes);
            if !timer_set {
                timer.as_mut().reset(job.deadline.into());
                timer_set = true;
            }
            conn.waiting.push_back((job.reply, job.deadline));
        }
        // Bounded: with Redis unreachable and the socket's send buffer
        // full, a write would otherwise wait for TCP to give up (minutes),
        // and nothing else would be read or sent meanwhile.
        match tokio::time::timeout(end.timeout, conn.io.write_all(&out)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => fail(live.take(), &e.into()),
            Err(_) => fail(
                live.take(),
                &io_error(
                    io::ErrorKind::TimedOut,
                    "writing to Redis timed out: connection replaced",
                ),
            ),
        }
        // A huge batch's buffer is not kept for the small ones after it.
        if out.capacity() > 4 * READ_BUF {
            out = Vec::new();
        }
    }
}

/// Lets every task that is ready now run once, then goes on: one turn
/// at the back of the run queue. Not `tokio::task::yield_now`, which also
/// waits for the next poll of the I/O driver: the batch then takes in the
/// requests that arrive meanwhile too, and Redis sits idle while they are
/// parsed (on actix-web's current-thread workers that cost about a sixth
/// of the write route's throughput).
async fn run_queue_turn() {
    let mut turned = false;
    std::future::poll_fn(|cx| {
        if turned {
            return std::task::Poll::Ready(());
        }
        turned = true;
        // A task that wakes itself while polled goes to the back of the
        // queue, behind the tasks already ready.
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

/// Answers "timed out" to the commands in `batch` past their deadline.
fn expire(batch: &mut Vec<Job>, now: Instant) {
    for job in batch.extract_if(.., |job| job.deadline <= now) {
        let _ = job.reply.send(Err(timed_out()));
    }
}

/// Fails every command still waiting on a connection that is gone.
fn fail(live: Option<Live>, why: &RedisError) {
    if let Some(conn) = live {
        for (reply, _) in conn.waiting {
            let _ = reply.send(Err(why.clone()));
        }
    }
}

/// The socket, as one object for TCP and Unix sockets alike.
trait Socket: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Socket for T {}

/// A connection and what it owes.
struct Live {
    io: Box<dyn Socket>,
    /// The callers of the commands written and not answered yet, oldest
    /// first, with their deadlines.
    waiting: VecDeque<(oneshot::Sender<Reply>, Instant)>,
    /// Bytes read and not yet made into replies.
    buf: Vec<u8>,
}

impl Live {
    fn new(io: Box<dyn Socket>) -> Self {
        Self {
            io,
            waiting: VecDeque::new(),
            buf: Vec::with_capacity(READ_BUF),
        }
    }

    /// True when the oldest unanswered command is past its deadline.
    fn stalled(&self, now: Instant) -> bool {
        self.waiting
            .front()
            .is_some_and(|&(_, deadline)| deadline <= now)
    }

    /// The earliest deadline in flight. Deadlines are not in the order
    /// written: a retry keeps its first attempt's.
    fn earliest(&self) -> Option<Instant> {
        self.waiting.iter().map(|&(_, deadline)| deadline).min()
    }

    /// Hands every complete reply in the buffer to its caller.
    fn dispatch(&mut self) -> RedisResult<()> {
        let mut at = 0;
        while let Some((reply, used)) = wire::parse(&self.buf[at..]).map_err(malformed)? {
            at += used;
            let Some((caller, _)) = self.waiting.pop_front() else {
                return Err(io_error(
                    io::ErrorKind::InvalidData,
                    "Redis sent a reply to no command",
                ));
            };
            let _ = caller.send(reply);
        }
        self.buf.drain(..at);
        // A large reply's buffer is not kept for the small ones after it.
        if self.buf.is_empty() && self.buf.capacity() > 4 * READ_BUF {
            self.buf = Vec::with_capacity(READ_BUF);
        }
        Ok(())
    }

    /// Reads one reply, for the handshake.
    async fn reply(&mut self) -> Reply {
        loop {
            if let Some((reply, used)) = wire::parse(&self.buf).map_err(malformed)? {
                self.buf.drain(..used);
                return reply;
            }
            if self.io.read_buf(&mut self.buf).await? == 0 {
                return Err(io_error(
                    io::ErrorKind::ConnectionReset,
                    "Redis closed the connection",
                ));
            }
        }
    }
}

impl Endpoint {
    /// A fresh connection, authenticated and on the URL's database.
    async fn connect(&self, deadline: Instant) -> RedisResult<Live> {
        match tokio::time::timeout_at(deadline.into(), self.open()).await {
            Ok(result) => result,
            Err(_) => Err(io_error(
                io::ErrorKind::TimedOut,
                "connecting to Redis timed out",
            )),
        }
    }

    async fn open(&self) -> RedisResult<Live> {
        let io: Box<dyn Socket> = match self.info.addr() {
            ConnectionAddr::Tcp(host, port) => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                // Commands are written whole; waiting to coalesce them
                // only adds latency.
                stream.set_nodelay(true)?;
                Box::new(stream)
            }
            #[cfg(unix)]
            ConnectionAddr::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
            other => {
                return Err(RedisError::from((
                    redis::ErrorKind::InvalidClientConfig,
                    "unsupported Redis address",
                    other.to_string(),
                )))
            }
        };
        let mut conn = Live::new(io);
        let settings = self.info.redis_settings();
        let mut hello = Vec::new();
        let mut replies = 0;
        if let Some(password) = settings.password() {
            let mut auth = Command::new("AUTH");
            if let Some(user) = settings.username() {
                auth.arg(user.as_bytes());
            }
            auth.arg(password.as_bytes());
            hello.extend_from_slice(&auth.packed());
            replies += 1;
        }
        if settings.db() != 0 {
            let mut select = Command::new("SELECT");
            select.arg_int(settings.db());
            hello.extend_from_slice(&select.packed());
            replies += 1;
        }
        if replies > 0 {
            conn.io.write_all(&hello).await?;
            for _ in 0..replies {
                conn.reply().await?;
            }
            // Nothing was asked for yet: more bytes are a server out of step.
            if !conn.buf.is_empty() {
                return Err(io_error(
                    io::ErrorKind::InvalidData,
                    "Redis sent more than the handshake's replies",
                ));
            }
        }
        Ok(conn)
    }
}

/// A command in flight or queued past its deadline.
fn timed_out() -> RedisError {
    io_error(
        io::ErrorKind::TimedOut,
        "Redis did not answer within the store's timeout",
    )
}

/// The connection task is gone (its runtime shut down).
fn stopped() -> RedisError {
    io_error(
        io::ErrorKind::BrokenPipe,
        "the Redis connection task stopped",
    )
}

fn io_error(kind: io::ErrorKind, what: &'static str) -> RedisError {
    io::Error::new(kind, what).into()
}

/// A reply that does not parse: the stream is out of step, so the
/// connection is dropped like a broken one.
fn malformed(e: wire::Malformed) -> RedisError {
    io::Error::new(io::ErrorKind::InvalidData, e).into()
}
