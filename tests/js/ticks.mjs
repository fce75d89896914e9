// Follows one timer's ticks with the graphql-ws reference client (graphql-transport-ws).
//
//   TIMERGATE_TOKEN=tg_... node ticks.mjs <ws-url> <timer-id> <count> [timeout-seconds]
//
// Prints each result received as one JSON line on stdout. Exits 0 after <count> results or
// when the server completes the subscription, 1 on an error (printed on stderr as JSON), and
// 2 if <timeout-seconds> (default 10) pass first.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const TICKS = `
  subscription Ticks($timerId: ID) {
    timerTicks(timerId: $timerId) {
      elapsedSeconds at final
      timer { id state elapsedSeconds }
    }
  }
`;

const [url, timerId, countArg, timeoutArg = '10'] = process.argv.slice(2);
const count = Number.parseInt(countArg, 10);
const token = process.env.TIMERGATE_TOKEN;
if (!url || !timerId || !(count > 0) || !token) {
  console.error('usage: TIMERGATE_TOKEN=... node ticks.mjs <ws-url> <timer-id> <count> [timeout-seconds]');
  process.exit(64);
}

const deadline = setTimeout(() => {
  console.error(JSON.stringify({ timeout: `no end within ${timeoutArg} s` }));
  process.exit(2);
}, Number.parseFloat(timeoutArg) * 1000);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
});

let received = 0;
try {
  for await (const result of client.iterate({ query: TICKS, variables: { timerId } })) {
    console.log(JSON.stringify(result));
    received += 1;
    if (received >= count) break;
  }
} catch (error) {
  // graphql-ws throws the GraphQL errors of an "error" message, or the CloseEvent.
  const detail = Array.isArray(error) ? { errors: error } : { code: error.code, reason: error.reason ?? String(error) };
  console.error(JSON.stringify(detail));
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await client.dispose();
}
