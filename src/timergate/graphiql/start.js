// GraphiQL against the gateway that served this page. Queries and mutations are POSTed as
// JSON; subscriptions stream as server-sent events on the same URL, so the token in the
// Headers tab authenticates both (a websocket would need it in connection_init instead).
(function () {
  "use strict";

  const endpoint = window.location.origin + window.location.pathname;

  // Whether the operation to run is a subscription, from its text (GraphiQL passes the
  // parsed document only some of the time).
  function isSubscription(params) {
    const text = params.query.replace(/#[^\n]*/g, " ").replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const operations = [...text.matchAll(/(^|[}\s])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)];
    if (params.operationName) {
      const chosen = operations.find((m) => m[3] === params.operationName);
      return chosen !== undefined && chosen[2] === "subscription";
    }
    return operations.length === 1 && operations[0][2] === "subscription";
  }

  async function* serverSentEvents(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (event === "complete") return;
        if (event === "next" && data.length) yield JSON.parse(data.join("\n"));
      }
    }
  }

  async function fetcher(params, options) {
    const subscription = isSubscription(params);
    const response = await fetch(endpoint, {
      method: "POST",
      headers: {
        ...((options && options.headers) || {}),
        "Content-Type": "application/json",
        Accept: subscription
          ? "text/event-stream"
          : "application/graphql-response+json, application/json",
      },
      body: JSON.stringify(params),
    });
    const type = response.headers.get("Content-Type") || "";
    return type.startsWith("text/event-stream") ? serverSentEvents(response) : response.json();
  }

  const defaultQuery = `# Put your token in Headers below: {"Authorization": "Bearer tg_..."}
# (serve --demo prints one), then run this with Ctrl-Enter.
{
  viewer {
    name
    runningTimer { id description elapsedSeconds }
  }
}
`;

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    }),
  );
})();
