// Drives the gateway with urql's core client at its default settings, plus fetchSubscriptions
// so subscriptions travel as server-sent events (urql's own transport, no websocket).
//
//   TIMERGATE_TOKEN=tg_... node urql.mjs <http-url>
//
// Prints one JSON line per step on stdout: the viewer query, a started timer, two ticks, the
// stop, the final tick, and what a wrong token gets. Exits 0 when done, 1 on an error, 2 if
// 15 seconds pass first.
import { Client, fetchExchange, gql } from '@urql/core';

const [url] = process.argv.slice(2);
const token = process.env.TIMERGATE_TOKEN;
if (!url || !token) {
  console.error('usage: TIMERGATE_TOKEN=... node urql.mjs <http-url>');
  process.exit(64);
}
const deadline = setTimeout(() => {
  console.error(JSON.stringify({ timeout: 'no end within 15 s' }));
  process.exit(2);
}, 15000);

const client = (bearer) =>
  new Client({
    url,
    exchanges: [fetchExchange],
    fetchSubscriptions: true,
    requestPolicy: 'network-only',
    fetchOptions: { headers: { Authorization: `Bearer ${bearer}` } },
  });
const urql = client(token);
const say = (step, value) => console.log(JSON.stringify({ step, ...value }));
const must = (result) => {
  if (result.error) throw new Error(`${result.error.message} ${JSON.stringify(result.error.graphQLErrors)}`);
  return result.data;
};

const VIEWER = gql`{ viewer { name } }`;
const START = gql`mutation Start($description: String!) {
  startTimer(input: { description: $description }) { timer { id state } }
}`;
const STOP = gql`mutation Stop($id: ID!) { stopTimer(input: { id: $id }) { timer { id state } } }`;
const TICKS = gql`subscription Ticks($id: ID) {
  timerTicks(timerId: $id) { elapsedSeconds final timer { id state } }
}`;

try {
  say('viewer', must(await urql.query(VIEWER, {}).toPromise()));
  const started = must(await urql.mutation(START, { description: 'from urql' }).toPromise());
  say('started', started);
  const id = started.startTimer.timer.id;

  await new Promise((resolve, reject) => {
    let ticks = 0;
    const { unsubscribe } = urql.subscription(TICKS, { id }).subscribe((result) => {
      if (result.error) return reject(result.error);
      if (!result.data) return;
      const tick = result.data.timerTicks;
      say('tick', tick);
      if (tick.final) {
        unsubscribe();
        resolve();
      } else if (++ticks === 2) {
        urql.mutation(STOP, { id }).toPromise().then((stopped) => say('stopped', must(stopped)), reject);
      }
    });
  });

  const refused = await client('tg_not-a-token').query(VIEWER, {}).toPromise();
  say('wrong token', {
    codes: refused.error.graphQLErrors.map((e) => e.extensions.code),
    status: refused.error.response?.status,
  });
} catch (error) {
  console.error(JSON.stringify({ error: String(error) }));
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
}
