//! Coalesces the commands of concurrent requests into one pipeline.
//!
//! Every request sends its command to one task. That task takes the first
//! command, lets the other requests that are ready right now run (one
//! scheduler yield), then sends everything queued as one pipeline: one
//! socket write and one read for many requests, where one command per
//! write costs a system call and a loopback or network wake-up each. Under
//! light load a batch is a single command and costs one yield more. Replies
//! go back in order; a command's error reaches only its own caller.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisResult, Value};
use tokio::sync::{mpsc, oneshot};

/// The most commands in one pipeline.
const MAX_BATCH: usize = 64;

struct Job {
    cmd: Cmd,
    reply: oneshot::Sender<RedisResult<Value>>,
}

/// A handle on the batching task. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Batcher {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Batcher {
    /// Starts the task that sends batches on `conn`. Needs a Tokio
    /// runtime; the task ends when the last handle is dropped.
    pub(crate) fn spawn(conn: ConnectionManager) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(conn, queue));
        Self { jobs }
    }

    /// True once the task has stopped (its runtime shut down).
    pub(crate) fn is_closed(&self) -> bool {
        self.jobs.is_closed()
    }

    /// Sends one command in the next batch and waits for its reply.
    pub(crate) async fn send(&self, cmd: &Cmd) -> RedisResult<Value> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            cmd: cmd.clone(),
            reply,
        };
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(conn: ConnectionManager, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        // The other connections' requests that are ready now get to run
        // and queue their commands behind this one.
        tokio::task::yield_now().await;
        let mut jobs = Vec::with_capacity(8);
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            let Ok(job) = queue.try_recv() else { break };
            jobs.push(job);
        }
        // Sent from a task of its own, so the next batch need not wait for
        // this one's replies (the connection is multiplexed).
        tokio::spawn(send_batch(conn.clone(), jobs));
    }
}

async fn send_batch(mut conn: ConnectionManager, mut jobs: Vec<Job>) {
    if jobs.len() == 1 {
        if let Some(job) = jobs.pop() {
            let result = conn.req_packed_command(&job.cmd).await;
            let _ = job.reply.send(result.and_then(Value::extract_error));
        }
        return;
    }
    let count = jobs.len();
    let mut pipe = Pipeline::with_capacity(count);
    let mut replies = Vec::with_capacity(count);
    for job in jobs {
        pipe.add_command(job.cmd);
        replies.push(job.reply);
    }
    match conn.req_packed_commands(&pipe, 0, count).await {
        Ok(values) if values.len() == count => {
            for (value, reply) in values.into_iter().zip(replies) {
                let _ = reply.send(value.extract_error());
            }
        }
        Ok(_) => {
            for reply in replies {
                let _ = reply.send(Err(RedisError::from((
                    ErrorKind::UnexpectedReturnType,
                    "a pipeline reply had the wrong number of values",
                ))));
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

fn stopped() -> RedisError {
    std::io::Error::new(
        std::io::ErrorKind::BrokenPipe,
        "the Redis batching task stopped",
    )
    .into()
}
