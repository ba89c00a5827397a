//! Pieces of model bodies shared by the kernel's model files and the executor's (`mod common;` in
//! each; the harness itself — drivers, report line, probes — is the `futuretask_models` library).
//! Each part is compiled only for its checker, so a file that includes this uses all of it.

#[cfg(loom)]
pub mod loom;
#[cfg(all(feature = "shuttle", not(loom)))]
pub mod shuttle;
