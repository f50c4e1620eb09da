//! The clerk: how a client reaches the key/value service.

use labrpc::ClientEnd;

/// A client of the key/value service. The tester makes several, each used by one task at
/// a time: a clerk has at most one request outstanding.
pub struct Clerk {
    /// `servers[i]` reaches server `i`.
    #[expect(
        dead_code,
        reason = "send requests through these ends; then delete this attribute"
    )]
    servers: Vec<ClientEnd>,
    // You will have to modify this struct: remember which server led last time, and
    // whatever the servers need to recognise a retried request.
}

impl Clerk {
    /// A clerk that reaches server `i` through `servers[i]`.
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        // You'll have to add code here.
        Clerk { servers }
    }

    /// Fetches the current value of `key`; `""` if it has none. Keeps trying in the face of
    /// all other errors: send a `KV.Get` RPC
    /// (`self.servers[i].call(&args).await`), and try another server on
    /// `ErrWrongLeader` or when the call fails (`Err`: the request or its reply was lost).
    pub async fn get(&mut self, _key: &str) -> String {
        // You will have to modify this function.
        String::new()
    }

    /// Sets `key` to `value`. Keeps trying until it succeeds, like [`Clerk::get`].
    pub async fn put(&mut self, _key: &str, _value: &str) {
        // You will have to modify this function.
    }

    /// Appends `value` to `key`'s value (to `""` if it has none). Keeps trying until it
    /// succeeds.
    pub async fn append(&mut self, _key: &str, _value: &str) {
        // You will have to modify this function.
    }
}
