//! A linearizability checker for histories of concurrent operations.
//!
//! A history is linearizable when every operation can be given a single instant within
//! its interval at which it took effect, such that applying the operations in the order
//! of those instants to a sequential specification (a [`Model`]) yields exactly the
//! outputs the clients saw.
//!
//! # The model
//!
//! A [`Model`] gives an initial state and a pure [`Model::step`]: the state after an
//! input that produced an output, or `None` if that output is impossible in that state.
//! [`Model::partition`] may split a history into independent parts (for a key-value
//! store, one per key); each part is checked separately, in parallel, which is far
//! cheaper than checking the whole. Ready-made models: [`kv::KvModel`] and
//! [`register::RegisterModel`].
//!
//! # Intervals
//!
//! Each [`Operation`] spans the closed interval `[call, ret]`. Two operations whose
//! intervals overlap or merely touch (`a.ret == b.call`) are concurrent and may take
//! effect in either order; an operation whose `ret` is strictly before another's `call`
//! takes effect first.
//!
//! # Verdicts and budgets
//!
//! [`check`] answers [`Verdict::Ok`] (linearizable), [`Verdict::Illegal`] (not), or
//! [`Verdict::Unknown`] when the [`Budget`] ran out first, in a [`Report`] that also gives
//! the search steps it took (and, for an unknown verdict, how to raise the budget). The
//! search can take exponential time on adversarial histories, hence the budget:
//! - [`Budget::Steps`] bounds the search steps of each partition separately. Use it in
//!   tests: the verdict depends only on the history, never on machine speed or threads.
//! - [`Budget::Time`] bounds the wall-clock time of the whole check, for interactive use.
//! - [`Budget::Unlimited`] searches until settled.
//!
//! The default, [`Budget::Steps`]`(`[`Budget::DEFAULT_STEPS`]`)`, leaves a wide margin
//! over what the lab's histories and porcupine's public test histories take. A search
//! that runs out of budget still settles its partition as illegal if a read fits no
//! state the writes could produce ([`Model::find_impossible_read`]).
//!
//! [`check_with`] and [`check_verbose_with`] also take a thread count ([`Options`]):
//! partitions are searched on up to that many threads (by default one per core); a history
//! of one partition, or of a few hundred operations, is searched on the calling thread,
//! since starting threads would cost more than it saves, and so is the first stage below
//! (threads start only for the partitions it leaves unsettled).
//!
//! # Operations whose outcome is unknown
//!
//! A client that timed out cannot tell whether its request took effect: record it with
//! `ret` = [`NEVER_RETURNED`] (see [`Operation`] for the outputs such operations need).
//! [`register::CasRegisterModel`], a register with compare-and-swap and an absent value,
//! models Jepsen's etcd tests, whose histories have many such operations.
//!
//! Any illegal partition makes the history illegal (and [`check`] then stops the other
//! partitions' searches); otherwise any unsettled one makes it unknown. To find an
//! illegal partition early, every partition is first searched with a small budget
//! (1 000 steps), smallest first; those that run out go on where they stopped, with
//! larger budgets in turn (10 000, 100 000 steps, then the whole budget). The verdict and
//! the steps are those of one search with the whole budget.
//!
//! # Cost
//!
//! The search (Wing & Gong's, with Lowe's cache of explored configurations, as in
//! porcupine) is fast when operations mostly take effect in the order they were called,
//! and reads ([`Model::is_read_only`]) are placed as soon as they fit. It is exponential
//! in the worst case: many concurrent writes whose order only later reads reveal (say,
//! a dozen Appends in flight on one key, taking effect out of call order) can exhaust
//! any budget, and refuting an illegal history means exploring every configuration
//! reachable before the violation. Give tests a [`Budget::Steps`] and treat
//! [`Verdict::Unknown`] as inconclusive.
//!
//! # Explanations
//!
//! [`check_verbose`] also returns an [`Explanation`]: for each partition, the longest
//! partial linearizations the search reached and the operation it could not place after
//! them. It costs at most about twice [`check`]: like [`check`], it stops searching other
//! partitions once one is illegal (they are listed, unexplained). [`write_html`] turns it
//! into a self-contained page:
//! - the heading gives the verdict; the list below it names the partitions, illegal
//!   ones in red; click one to show it;
//! - each client has a lane; each operation is a box spanning its interval (time runs
//!   left to right; long gaps are compressed, so compare positions, not lengths);
//! - the boxes of the shown partial linearization are green and numbered in the order
//!   they were linearized; the red box is the operation that could not be placed next:
//!   its response came before any legal order could include it;
//! - the page opens on the first illegal partition, scrolled to its red box; a panel
//!   prints that operation, the state it met, the last steps before it, and, for a read
//!   whose model implements [`Model::describe_read_as_state`], where the value it
//!   returned departs from the state met (and from the nearest state reached anywhere),
//!   with the first differing character highlighted, however long the values;
//! - hovering over a box shows the operation, its times, and the state just after it;
//!   clicking a box shows the longest partial linearization that contains it.
//!
//! ```
//! use linearizability::kv::{KvInput, KvModel, KvOutput};
//! use linearizability::{Budget, Operation, Verdict, check};
//!
//! let put = Operation {
//!     client: 0,
//!     input: KvInput::Put { key: "x".into(), value: "1".into() },
//!     output: KvOutput::default(),
//!     call: 0,
//!     ret: 10,
//! };
//! let stale_get = Operation {
//!     client: 1,
//!     input: KvInput::Get { key: "x".into() },
//!     output: KvOutput { value: String::new() },
//!     call: 20,
//!     ret: 30,
//! };
//! assert_eq!(check(&KvModel, &[put, stale_get], Budget::Steps(10_000)), Verdict::Illegal);
//! ```

mod checker;
mod events;
mod explain;
mod hash;
mod html;
mod json;
pub mod kv;
mod model;
pub mod register;
mod search;
mod table;
mod trace;
mod verdict;

pub use explain::{Explanation, LinearizedStep, PartialLinearization, PartitionExplanation};
pub use html::{render_html, write_html};
pub use model::{Model, NEVER_RETURNED, Operation};
pub use verdict::{Budget, Options, Report, Verdict};

/// Checks whether `history` is linearizable with respect to `model`, within `budget`, on
/// one thread per core (see [`check_with`] for fewer).
///
/// The [`Report`] gives the verdict (it compares equal to a [`Verdict`]) and the search
/// steps taken; displayed, an unknown verdict says how to raise the budget.
///
/// # Panics
///
/// If an operation returns before its call, or [`Model::partition`] does not cover each
/// operation exactly once.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Budget,
) -> Report {
    check_with(model, history, Options::with_budget(budget))
}

/// [`check`] with [`Options`]: a budget and a thread count.
///
/// # Panics
///
/// As [`check`].
pub fn check_with<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: Options,
) -> Report {
    let parts = model.partition(history);
    checker::validate(history, &parts);
    let runs = checker::run(
        model,
        history,
        &parts,
        options.budget,
        options.threads,
        false,
    );
    checker::report(model, history, &parts, &runs, options.budget)
}

/// Like [`check`], and also explains the verdict (see [`Explanation`]).
///
/// Costs at most about twice [`check`]: the partitions are searched as [`check`] does
/// (the first illegal one stops the others), then each partition found illegal or out of
/// budget is searched once more, tracing its partial linearizations. A partition that was
/// stopped before its end is listed unexplained ([`PartitionExplanation::searched`] is
/// false); which ones are depends on thread timing, the verdict never does.
///
/// # Panics
///
/// As [`check`].
pub fn check_verbose<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Budget,
) -> (Verdict, Explanation) {
    check_verbose_with(model, history, Options::with_budget(budget))
}

/// [`check_verbose`] with [`Options`]: a budget and a thread count.
///
/// # Panics
///
/// As [`check`].
pub fn check_verbose_with<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: Options,
) -> (Verdict, Explanation) {
    let parts = model.partition(history);
    checker::validate(history, &parts);
    let runs = checker::run(
        model,
        history,
        &parts,
        options.budget,
        options.threads,
        true,
    );
    let verdict = checker::combine(&runs);
    (
        verdict,
        explain::explain(model, history, parts, runs, verdict),
    )
}
