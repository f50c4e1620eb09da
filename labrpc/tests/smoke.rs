//! Smoke test: one echo service over a reliable, then an unreliable network.

use std::time::Duration;

use labrpc::{Network, Node, Rpc, Server, Service, Sim};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug)]
struct Echo(String);

impl Rpc for Echo {
    type Reply = String;
    const METHOD: &'static str = "Echo.Say";
}

#[test]
fn smoke() {
    let (out, report) = Sim::new(3).run_with_report(async {
        let net = Network::new();
        let node = Node::new("S1");
        let server = Server::on(node).with_service(Service::new("Echo").method(
            |Echo(s): Echo| async move {
                labrpc::sleep(Duration::from_millis(5)).await;
                format!("echo {s}")
            },
        ));
        net.add_server("S1", server);
        let c = net.make_end("c->S1");
        net.connect("c->S1", "S1");
        net.enable("c->S1", true);
        let r = c.call(&Echo("hi".into())).await.unwrap();
        assert_eq!(r, "echo hi");
        net.set_reliable(false);
        let mut ok = 0;
        for i in 0..1000 {
            if c.call(&Echo(format!("{i}"))).await.is_ok() {
                ok += 1;
            }
        }
        (ok, labrpc::now())
    });
    println!("{out:?} {report:?}");
}
