//! Helpers shared by the executor's integration tests (each test binary includes this module).

use std::sync::{Arc, Condvar, Mutex};

/// A one-shot gate: tasks wait until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    /// Let every waiter (present and future) through.
    pub fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }

    /// Block until the gate is open.
    pub fn wait(&self) {
        let mut g = self.0 .0.lock().unwrap();
        while !*g {
            g = self.0 .1.wait(g).unwrap();
        }
    }
}
