// A tiny timer frontend on its own origin. It starts a timer with fetch() and shows the
// viewer's live ticks over graphql-ws. The gateway and the token come in the fragment, which
// never leaves the browser: /#gateway=http://127.0.0.1:8000&token=tg_...
//
// Outcomes land in the DOM for the tests to read: #timer gets data-outcome "ok" or "failed",
// #live gets data-state "connected" or "failed" and data-code when the socket closes, and every
// tick is an <li> in #ticks with data-elapsed and data-final.
"use strict";

const START = `
  mutation Start($input: StartTimerInput!) {
    startTimer(input: $input) { timer { id state description } }
  }
`;
const TICKS = `
  subscription { timerTicks { elapsedSeconds final timer { id description } } }
`;

const config = new URLSearchParams(location.hash.slice(1));
const gateway = config.get("gateway");
const authorization = `Bearer ${config.get("token")}`;
const $ = (id) => document.getElementById(id);

async function startTimer() {
  const timer = $("timer");
  try {
    const response = await fetch(`${gateway}/graphql`, {
      method: "POST",
      headers: { Authorization: authorization, "Content-Type": "application/json" },
      body: JSON.stringify({ query: START, variables: { input: { description: "From the browser" } } }),
    });
    const body = await response.json();
    if (body.errors) throw new Error(body.errors[0].message);
    const started = body.data.startTimer.timer;
    timer.textContent = `${started.state}: ${started.description}`;
    timer.dataset.id = started.id;
    timer.dataset.outcome = "ok";
  } catch (error) {
    timer.textContent = `${error.name}: ${error.message}`;
    timer.dataset.outcome = "failed";
  }
}

function clock(seconds) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${Math.floor(seconds / 3600)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

function followTicks() {
  const live = $("live");
  const client = graphqlWs.createClient({
    url: `${gateway.replace(/^http/, "ws")}/graphql`,
    connectionParams: { Authorization: authorization },
    retryAttempts: 0,
    on: {
      connected: () => {
        live.textContent = "connected";
        live.dataset.state = "connected";
      },
      closed: (event) => {
        live.textContent = `closed (${event.code})`;
        live.dataset.code = event.code;
      },
    },
  });
  client.subscribe(
    { query: TICKS },
    {
      next: ({ data }) => {
        const tick = data.timerTicks;
        const item = document.createElement("li");
        item.textContent = `${clock(tick.elapsedSeconds)} ${tick.timer.description}${tick.final ? " (stopped)" : ""}`;
        item.dataset.elapsed = tick.elapsedSeconds;
        item.dataset.final = tick.final;
        $("ticks").append(item);
      },
      error: (error) => {
        // The socket's error or close event (see closed), or the operation's GraphQL errors.
        if (Array.isArray(error)) live.textContent = `failed: ${error[0].message}`;
        live.dataset.state = "failed";
      },
      complete: () => {
        live.dataset.state = "complete";
      },
    },
  );
}

$("start").addEventListener("click", startTimer);
followTicks();
