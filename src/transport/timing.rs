//! Time spent answering each RPC, in the debug log (`TF_LOG=debug`): where
//! a slow plan goes is then readable per call, on our side of the wire.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tower::{Layer, Service};
use tracing::debug;

#[derive(Clone, Copy, Default)]
pub(crate) struct RpcTiming;

impl<S> Layer<S> for RpcTiming {
    type Service = Timed<S>;
    fn layer(&self, inner: S) -> Timed<S> {
        Timed { inner }
    }
}

#[derive(Clone)]
pub(crate) struct Timed<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for Timed<S>
where
    S: Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // "/tfplugin6.Provider/PlanResourceChange" -> "PlanResourceChange"
        let rpc = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let started = Instant::now();
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            debug!(
                rpc,
                micros = started.elapsed().as_micros() as u64,
                "rpc answered"
            );
            result
        })
    }
}
