//! What happened in one simulated run, drawn after the fact.
//!
//! Every run records structured [`Event`]s with virtual timestamps (the world records
//! node starts and crashes, the network its settings and, when asked, its messages; the
//! tester its phases, checks, links and the servers' states; lab code its
//! annotations). Since a run replays exactly from its seed, any run can be drawn:
//!
//! - [`model`] turns a [`Recording`] into lanes, bands and marks;
//! - [`html`] renders that model as one self-contained page (no network, zoom and pan);
//! - [`columns`] prints events and logs one column per node, for a terminal.

pub mod columns;
pub mod event;
pub mod html;
pub mod model;

pub use event::{Event, Kind, Nanos, Recording};
