//! What a checker needs to know about the object under test: its sequential specification.

use std::hash::Hash;

/// The `ret` of an operation whose outcome is unknown: the client gave up waiting (a
/// timeout) or crashed, so the operation may have taken effect at any time after its call,
/// or never. See [`Operation`].
pub const NEVER_RETURNED: u64 = u64::MAX;

/// One operation of a history: who ran it, what it asked, what it got back, and when it was
/// in flight.
///
/// The operation took effect at some single instant of the closed interval `[call, ret]`
/// (its linearization point). Times are any monotone clock, typically virtual nanoseconds.
///
/// # Operations whose outcome is unknown
///
/// A client that timed out does not know whether its request took effect. Record such an
/// operation with `ret` = [`NEVER_RETURNED`]: it may then take effect at any instant after
/// its call, including after every other operation, which is the same as never. Its
/// `output` must be one the model accepts in any state, since nobody saw it:
/// - a write whose output the model ignores ([`crate::kv::KvInput::Put`] and
///   [`crate::kv::KvInput::Append`], [`crate::register::RegisterInput::Write`]) needs
///   nothing more;
/// - for an operation that both changes the state and reports something (a
///   compare-and-swap), give the model an output meaning "unknown", as
///   [`crate::register::CasOutput::Unknown`];
/// - a read of unknown outcome changes nothing and constrains nothing: leave it out of the
///   history (or give it an "unknown" output the model accepts in any state).
///
/// The search tries such operations after the others at each step, since most never took
/// effect; many of them in flight at once still make a history costly to check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Operation<I, O> {
    /// The client that issued the operation. Only the HTML page uses it (one lane each).
    pub client: usize,
    /// What the client asked for.
    pub input: I,
    /// What the client was told.
    pub output: O,
    /// When the client issued the request.
    pub call: u64,
    /// When the client received the response; never before `call`.
    pub ret: u64,
}

/// The sequential specification of an object: its initial state and how each operation
/// moves it from state to state.
///
/// `Sync` because independent partitions of a history are checked on several threads.
pub trait Model: Sync {
    /// A state of the object. Compared and hashed to recognise search positions already
    /// explored, so two states must be equal exactly when they behave alike.
    type State: Clone + Eq + Hash + Send + Sync;
    /// The request of an operation.
    type Input: Send + Sync;
    /// The response of an operation.
    type Output: Send + Sync;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after applying `input` that returned `output` in `state`, or `None` if
    /// that output is impossible in `state`.
    ///
    /// Must be pure: the same arguments always give the same answer.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// Whether `input` never changes the state, whatever the state and the output (a
    /// read). Optional, for speed: the search then places such an operation as soon as
    /// the model accepts it and never tries it later instead, which is sound because a
    /// read that fits now can always move to now. The default, `false`, is always safe.
    fn is_read_only(&self, input: &Self::Input) -> bool {
        let _ = input;
        false
    }

    /// Whether a read (`input`, [`is_read_only`](Model::is_read_only)) that returned
    /// `output` can still fit once the state is `state`, if only operations with the
    /// inputs `writes` may take effect before it (some of them, in some order). Optional,
    /// for speed: once it places a write, the search abandons the position if the read not
    /// yet placed whose response comes first can no longer fit, instead of trying every
    /// order of the writes around it (most of which are wrong, in legal histories too).
    ///
    /// Must be sound: answer `false` only if no sequence of some of `writes`, applied to
    /// `state`, leads to a state in which the read returns `output`. The default, `true`,
    /// is always safe.
    fn read_may_still_fit(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
        writes: &mut dyn Iterator<Item = &Self::Input>,
    ) -> bool {
        let _ = (state, input, output, writes);
        true
    }

    /// A read among `reads` (each an input and the output it returned, earliest response
    /// first) that fits no state some of `writes` (every other operation of the partition),
    /// each applied at most once in some order to the initial state, could produce: its
    /// position in `reads`, preferably the first such. Optional: when the search of a
    /// partition runs out of budget, the checker asks this, and an answer settles the
    /// partition as not linearizable (a read no order of the writes explains) instead of
    /// unknown. Called at most once per search, with all reads at once, so that the model
    /// can index the writes once.
    ///
    /// Must be sound: name a read only if no such sequence exists for it. The default,
    /// `None`, is always safe.
    fn find_impossible_read(
        &self,
        writes: &[&Self::Input],
        reads: &[(&Self::Input, &Self::Output)],
    ) -> Option<usize> {
        let _ = (writes, reads);
        None
    }

    /// Splits a history into independent sub-histories (P-compositionality): the history
    /// is linearizable exactly when each part is. Each part lists indices into `history`;
    /// together the parts must cover every operation once.
    ///
    /// The default keeps everything in one part. Splitting (a key-value store by key, say)
    /// makes checking far cheaper and lets parts be checked in parallel.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// A one-line description of an operation, for explanations.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String;

    /// A description of a state, for explanations.
    fn describe_state(&self, state: &Self::State) -> String;

    /// For a read, the state its `output` says the object was in, described as
    /// [`Model::describe_state`] would; `None` for other operations (the default).
    /// Optional: the HTML page then shows where a read that could not be placed departs
    /// from the state it met, character by character, which is what makes a wrong long
    /// value (a key's appended history, say) readable.
    fn describe_read_as_state(&self, input: &Self::Input, output: &Self::Output) -> Option<String> {
        let _ = (input, output);
        None
    }

    /// A short name for the `index`-th part returned by [`Model::partition`] (holding the
    /// operations `part` of `history`), for explanations. The default is `partition {index}`.
    fn describe_partition(
        &self,
        history: &[Operation<Self::Input, Self::Output>],
        part: &[usize],
        index: usize,
    ) -> String {
        let _ = (history, part);
        format!("partition {index}")
    }
}
