//! Logs with virtual time and node: `[   1.234567s] S2     DEBUG raft: became leader term=3`.
//!
//! Lab code logs with the ordinary `tracing` macros (`tracing::debug!(term, "became
//! leader")`). Nothing is printed unless `LAB_LOG` is set to a `tracing` filter such as
//! `debug`, `raft=trace` or `labrpc=debug,raft=info`; without it no subscriber is installed
//! and a disabled log statement costs one branch.
//!
//! With `LAB_LOG_CAPTURE=1` as well, the lines are not printed but recorded as events of
//! the run (`timeline::Kind::Log`), with their node and virtual time: the log reader
//! (`cargo run -p tests --bin logs`) replays a seed this way and shows them one column per
//! node.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::runtime::context::try_with_world;

/// The environment variable that turns logs on.
pub const LOG_ENV: &str = "LAB_LOG";

/// Installs the log printer for the current thread if `LAB_LOG` asks for one.
pub(crate) fn install() -> Option<tracing::subscriber::DefaultGuard> {
    let filter = std::env::var(LOG_ENV)
        .ok()
        .filter(|f| !f.trim().is_empty())?;
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|e| {
        panic!("labrpc: {LOG_ENV}={filter:?} is not a valid log filter ({e}); try {LOG_ENV}=debug")
    });
    if std::env::var("LAB_LOG_CAPTURE").is_ok_and(|v| v == "1") {
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry().with(filter).with(Capture);
        return Some(tracing::subscriber::set_default(subscriber));
    }
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(SimFormat)
        .with_test_writer()
        .finish();
    Some(tracing::subscriber::set_default(subscriber))
}

/// Formats one event with the virtual time and the node that logged it.
struct SimFormat;

impl<S, N> FormatEvent<S, N> for SimFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let (at, node) = try_with_world(|w| (w.clock.get(), w.node_name(w.current_node.get())))
            .unwrap_or_else(|| (Default::default(), "-".into()));
        let metadata = event.metadata();
        let target = metadata.target();
        let crate_name = target.split("::").next().unwrap_or(target);
        write!(
            writer,
            "[{at:>12}] {node:<6} {level:>5} {crate_name}: ",
            level = metadata.level()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Records every enabled log line as an event of the running world.
struct Capture;

impl<S: Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let metadata = event.metadata();
        let mut text = Fields::default();
        event.record(&mut text);
        let target = metadata.target();
        let kind = timeline::Kind::Log {
            level: metadata.level().to_string(),
            target: target.split("::").next().unwrap_or(target).to_owned(),
            text: text.0,
        };
        let _ = try_with_world(|w| w.note_here(kind));
    }
}

/// A log line's message and fields, as the printer writes them: `message key=value ...`.
#[derive(Default)]
struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        use fmt::Write as _;
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        let _ = if field.name() == "message" {
            write!(self.0, "{value:?}")
        } else {
            write!(self.0, "{}={value:?}", field.name())
        };
    }
}

impl fmt::Debug for SimFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SimFormat")
    }
}
