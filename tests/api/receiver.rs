//! A webhook receiver for tests: a real HTTP server that records every request and answers as
//! told.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::{
    EndpointExt, Request, Route, Server, handler,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
};

/// What the receiver does with one request.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Status(u16),
    /// Never answers.
    Hang,
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Hit {
    pub event_id: String,
    pub event_type: String,
    pub signature: String,
    pub body: String,
}

impl Hit {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("an event is JSON")
    }
}

#[derive(Default)]
struct State {
    hits: Vec<Hit>,
    /// Answers for the next requests, in order; then `otherwise`.
    script: VecDeque<Answer>,
    otherwise: Option<Answer>,
    in_flight: HashSet<String>,
    /// Requests for an event that arrived while another request for it was unanswered.
    concurrent_duplicates: usize,
    /// How long to take over each answer.
    delay: Duration,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
}

#[handler]
async fn receive(req: &Request, body: String, state: Data<&Arc<Mutex<State>>>) -> StatusCode {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let event_id = header("innoloan-event-id");
    let (answer, delay) = {
        let mut s = state.lock().unwrap();
        if !s.in_flight.insert(event_id.clone()) {
            s.concurrent_duplicates += 1;
        }
        s.hits.push(Hit {
            event_id: event_id.clone(),
            event_type: header("innoloan-event-type"),
            signature: header("innoloan-signature"),
            body,
        });
        let answer = s.script.pop_front().or(s.otherwise).unwrap_or(Answer::Status(200));
        (answer, s.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let status = match answer {
        Answer::Status(status) => status,
        Answer::Hang => std::future::pending().await,
    };
    state.lock().unwrap().in_flight.remove(&event_id);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    /// A receiver on a free port that answers 200 unless told otherwise.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        let app = Route::new().at("/*path", poem::post(receive)).data(state.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        Self { url: format!("http://127.0.0.1:{port}/hooks"), state }
    }

    /// The next requests get these answers, in order.
    pub fn script(&self, answers: &[Answer]) {
        self.state.lock().unwrap().script.extend(answers.iter().copied());
    }

    /// Once the script is spent, every request gets this.
    pub fn otherwise(&self, answer: Answer) {
        self.state.lock().unwrap().otherwise = Some(answer);
    }

    pub fn delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.lock().unwrap().hits.clone()
    }

    pub fn concurrent_duplicates(&self) -> usize {
        self.state.lock().unwrap().concurrent_duplicates
    }

    /// Waits until `done` holds for the requests so far, for at most `limit`.
    pub async fn wait_until(&self, limit: Duration, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let started = Instant::now();
        loop {
            let hits = self.hits();
            if done(&hits) || started.elapsed() > limit {
                return hits;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Whether `header` (`t=…,v1=…[,v1=…]`) carries a signature of `body` made with `secret`: the
/// README's `verify`, word for word.
pub fn signed_with(header: &str, body: &str, secret: &str) -> bool {
    verify(body.as_bytes(), header, secret, chrono::Utc::now().timestamp())
}

use hmac::{Hmac, Mac};

fn verify(body: &[u8], header: &str, secret: &str, now: i64) -> bool {
    let field =
        |name: &'static str| header.split(',').filter_map(move |p| p.strip_prefix(name)?.strip_prefix('='));
    let Some(t) = field("t").next().and_then(|t| t.parse::<i64>().ok()) else { return false };
    if (now - t).abs() > 300 {
        return false;
    }
    field("v1").filter_map(|v| hex::decode(v).ok()).any(|signature| {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { return false };
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&signature).is_ok() // constant-time
    })
}
