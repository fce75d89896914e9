// Drives the gateway with Apollo Client at its default settings: queries and mutations over
// HTTP, subscriptions over graphql-ws (a split link, as Apollo's documentation sets it up).
//
//   TIMERGATE_TOKEN=tg_... node apollo.mjs <http-url> <ws-url>
//
// Prints one JSON line per step on stdout, as urql.mjs does. Exits 0 when done, 1 on an
// error, 2 if 15 seconds pass first.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [httpUrl, wsUrl] = process.argv.slice(2);
const token = process.env.TIMERGATE_TOKEN;
if (!httpUrl || !wsUrl || !token) {
  console.error('usage: TIMERGATE_TOKEN=... node apollo.mjs <http-url> <ws-url>');
  process.exit(64);
}
const deadline = setTimeout(() => {
  console.error(JSON.stringify({ timeout: 'no end within 15 s' }));
  process.exit(2);
}, 15000);

const websockets = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
const apollo = (bearer) =>
  new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
      },
      new GraphQLWsLink(websockets),
      new HttpLink({ uri: httpUrl, headers: { Authorization: `Bearer ${bearer}` } }),
    ),
  });
const client = apollo(token);
const say = (step, value) => console.log(JSON.stringify({ step, ...value }));

const VIEWER = gql`query Viewer { viewer { name } }`;
const START = gql`mutation Start($description: String!) {
  startTimer(input: { description: $description }) { timer { id state } }
}`;
const STOP = gql`mutation Stop($id: ID!) { stopTimer(input: { id: $id }) { timer { id state } } }`;
const TICKS = gql`subscription Ticks($id: ID) {
  timerTicks(timerId: $id) { elapsedSeconds final timer { id state } }
}`;

try {
  say('viewer', (await client.query({ query: VIEWER, fetchPolicy: 'network-only' })).data);
  const started = (await client.mutate({ mutation: START, variables: { description: 'from Apollo' } })).data;
  say('started', started);
  const id = started.startTimer.timer.id;

  await new Promise((resolve, reject) => {
    let ticks = 0;
    const subscription = client.subscribe({ query: TICKS, variables: { id } }).subscribe({
      next: (result) => {
        if (result.error) return reject(result.error);
        const tick = result.data.timerTicks;
        say('tick', tick);
        if (tick.final) {
          subscription.unsubscribe();
          resolve();
        } else if (++ticks === 2) {
          client.mutate({ mutation: STOP, variables: { id } }).then((r) => say('stopped', r.data), reject);
        }
      },
      error: reject,
    });
  });

  try {
    await apollo('tg_not-a-token').query({ query: VIEWER, fetchPolicy: 'network-only' });
    say('wrong token', { codes: [] });
  } catch (error) {
    say('wrong token', {
      codes: (error.errors ?? []).map((e) => e.extensions?.code),
      status: error.statusCode,
      name: error.name,
    });
  }
} catch (error) {
  console.error(JSON.stringify({ error: String(error), detail: error.errors ?? null }));
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await websockets.dispose();
}
