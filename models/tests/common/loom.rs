//! The loom model bodies a kernel file and an executor file share.

use futuretask::{current, FutureTask, State, TaskHandle};
use futuretask_models::loom_driver::{check, Bound};
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// The body of the interrupted-wait models: task A's closure runs `wait` on `other` (which
/// nobody completes while A runs) and records its code (`2` = interrupted); main cancels A with
/// interrupt, joins the runner, checks I5, I6 and I12, then completes `other`.
pub fn interrupted_waiter(name: &'static str, wait: fn(&TaskHandle<u32>) -> usize) {
    check(name, "I5,I6,I12", Bound::Exhaustive, move || {
        let other: Arc<FutureTask<u32>> = Arc::new(FutureTask::<u32, _>::pending());
        let saw = Arc::new(AtomicUsize::new(0));
        let (o, s) = (other.handle(), Arc::clone(&saw));
        let task = Arc::new(FutureTask::new(move || {
            s.store(wait(&o), SeqCst);
        }));
        let t = Arc::clone(&task);
        let runner = thread::spawn(move || {
            t.run();
            assert!(
                !current::is_interrupted(),
                "I5: interrupt leaked past run()"
            );
        });
        assert!(task.cancel_and_interrupt());
        runner.join().unwrap();
        match saw.load(SeqCst) {
            0 | 2 => {}
            c => panic!("I12: the interrupted wait returned outcome {c}"),
        }
        assert_eq!(task.state(), State::Cancelled);
        assert_eq!(
            other.waiter_stack_len(),
            0,
            "I6: the interrupted wait left its node"
        );
        other.set(4).unwrap();
        assert_eq!(*other.get().unwrap(), 4);
    });
}
