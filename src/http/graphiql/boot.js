// Starts GraphiQL against this service: queries and mutations over POST /graphql,
// subscriptions over graphql-transport-ws at /graphql/ws. A file of its own, not an inline
// script, so that the page's Content-Security-Policy can forbid inline scripts.
(function () {
  var http = new URL("/graphql", window.location.origin);
  var ws = new URL("/graphql/ws", window.location.origin);
  ws.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({
        url: http.toString(),
        subscriptionUrl: ws.toString(),
      }),
      defaultEditorToolsVisibility: true,
    })
  );
})();
