//! Serves stateright's interactive explorer for the FutureTask model.
//!
//! ```text
//! cargo run -p futuretask-proofs --release --bin explore [-- PORT [CONFIG [MUTATION]]]
//! ```
//!
//! `PORT` defaults to `$FT_EXPLORE_PORT` or 3000; the server binds 127.0.0.1 only. `CONFIG` is
//! `quick` (default), `big` or a configuration string such as `R,C+,W,T,CB` (see
//! `Config::parse`); `MUTATION` is one of the `Mutation` variant names (default `None`).

use futuretask_proofs::{Config, FutureTaskModel, Mutation};
use stateright::Model;

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .or_else(|| std::env::var("FT_EXPLORE_PORT").ok())
        .map(|p| p.parse().expect("PORT must be a number"))
        .unwrap_or(3000);
    let cfg = match args.next().as_deref() {
        None | Some("quick") => Config::quick(),
        Some("big") => Config::big(),
        Some(spec) => Config::parse(spec).unwrap_or_else(|e| panic!("config {spec:?}: {e}")),
    };
    let mutation = match args.next() {
        None => Mutation::None,
        Some(name) => Mutation::ALL
            .into_iter()
            .find(|m| format!("{m:?}") == name)
            .unwrap_or_else(|| panic!("unknown mutation {name:?}; one of {:?}", Mutation::ALL)),
    };
    let addr = format!("127.0.0.1:{port}");
    println!("Explorer for the FutureTask model ({mutation:?}) on http://{addr}/");
    FutureTaskModel::new(cfg.with_mutation(mutation))
        .checker()
        .serve(addr);
}
