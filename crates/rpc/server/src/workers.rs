//! The bounded pool that runs the public port's expensive methods.
//!
//! `eth_call`, `eth_estimateGas`, `eth_getLogs`, receipts, `eth_feeHistory`, proofs and
//! `txpool_content` can each take a core for seconds. They never run on the async workers that
//! answer the engine port (`engine_getPayload` must answer at once) nor on the blocking threads
//! that build and import payloads: they go to a fixed set of threads of their own, at a lower
//! scheduling priority, with at most `threads` running and `queue` waiting. A request beyond
//! that is refused at once with -32005 instead of piling up.

use crate::{RpcResult, error};
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
    mpsc,
};

/// EIP-1474's "limit exceeded": the server is at its concurrency limit.
pub(crate) const LIMIT_EXCEEDED: i32 = -32005;

/// How much lower than the node's own threads RPC workers are scheduled (Linux `nice`).
const NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// Threads for expensive read methods, with a bounded queue in front.
pub struct RpcWorkers {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// Jobs accepted and not finished (running or queued).
    in_flight: Arc<AtomicUsize>,
    limit: usize,
    threads: usize,
}

impl std::fmt::Debug for RpcWorkers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcWorkers")
            .field("threads", &self.threads)
            .field("limit", &self.limit)
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .finish()
    }
}

/// Gives the slot back when a job ends, whether it returned or panicked.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl RpcWorkers {
    /// `threads` workers (at least one) and room for `queue` waiting jobs.
    pub fn new(threads: usize, queue: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("aegis-rpc-{index}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = {
                            let receiver = receiver.lock().unwrap_or_else(|e| e.into_inner());
                            receiver.recv()
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self {
            jobs: Mutex::new(Some(sender)),
            in_flight: Arc::default(),
            limit: threads + queue,
            threads,
        })
    }

    /// Runs `work` on a worker and waits for its answer; -32005 when the pool is full.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> RpcResult<T> + Send + 'static,
    ) -> RpcResult<T> {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("aegis_rpc_refused_total").increment(1);
            return Err(error(
                LIMIT_EXCEEDED,
                format!(
                    "server busy: {} expensive requests in progress, try again later",
                    self.limit
                ),
            ));
        }
        let slot = Slot(self.in_flight.clone());
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic in a handler must not take the worker down with it.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .unwrap_or_else(|_| Err(crate::internal("request handler panicked")));
            // The slot is free before the caller hears back.
            drop(slot);
            let _ = answer.send(outcome);
        });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|jobs| jobs.send(job).is_ok())
            .unwrap_or(false);
        if !sent {
            return Err(error(-32603, "the node is shutting down"));
        }
        answered
            .await
            .unwrap_or_else(|_| Err(crate::internal("request handler stopped")))
    }

    /// Stops taking jobs; workers end once the queue is drained.
    pub fn close(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// Makes the calling thread yield to the node's own threads when the cores are busy.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority only read their arguments; PRIO_PROCESS with a thread id
    // changes that thread's nice value alone on Linux.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, NICENESS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A gate jobs wait at until the test opens it.
    #[derive(Default)]
    struct Gate(Mutex<bool>, std::sync::Condvar);

    impl Gate {
        fn wait(&self) {
            let mut open = self.0.lock().unwrap();
            while !*open {
                open = self.1.wait(open).unwrap();
            }
        }
        fn open(&self) {
            *self.0.lock().unwrap() = true;
            self.1.notify_all();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_work_and_refuses_beyond_the_limit() {
        let workers = Arc::new(RpcWorkers::new(1, 1).unwrap());
        assert_eq!(workers.run(|| Ok(7)).await.unwrap(), 7);

        let gate = Arc::new(Gate::default());
        let held: Vec<_> = (0..2)
            .map(|_| {
                let (workers, gate) = (workers.clone(), gate.clone());
                tokio::spawn(async move {
                    workers
                        .run(move || {
                            gate.wait();
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while workers.in_flight.load(Ordering::Acquire) < 2 {
            assert!(std::time::Instant::now() < deadline, "jobs never started");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = workers.run(|| Ok(())).await.unwrap_err();
        assert_eq!(refused.code(), LIMIT_EXCEEDED);
        assert!(refused.message().contains("server busy"), "{refused:?}");
        gate.open();
        for task in held {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("held jobs finish once released")
                .unwrap()
                .unwrap();
        }
        assert_eq!(workers.in_flight.load(Ordering::Acquire), 0);
        assert_eq!(workers.run(|| Ok(1)).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_an_error_and_frees_its_slot() {
        let workers = RpcWorkers::new(1, 0).unwrap();
        let error = workers
            .run::<()>(|| panic!("handler bug"))
            .await
            .unwrap_err();
        assert_eq!(error.code(), -32603);
        assert_eq!(workers.run(|| Ok(2)).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_closed_pool_refuses_new_work() {
        let workers = RpcWorkers::new(1, 4).unwrap();
        workers.close();
        assert!(workers.run(|| Ok(())).await.is_err());
    }
}
