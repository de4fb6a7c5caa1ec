// A real GraphQL server for executor's tests: graphql-js (the reference
// implementation) served by graphql-http over node:http. Requires the header
// `x-api-key: gql-key`. Prints `listening <endpoint URL>` on stdout.
import http from "node:http";
import { buildSchema } from "graphql";
import { createHandler } from "graphql-http/lib/use/http";

const schema = buildSchema(`
  "Films and the people who made them"
  type Query {
    "One film by id"
    film(id: ID!): Film
    "Films, a page at a time"
    films(first: Int): FilmConnection!
    "Always fails"
    fail: String
  }
  type Mutation {
    "Rates a film; answers the film with its new rating"
    rateFilm(input: RatingInput!): Film
  }
  input RatingInput { id: ID!, stars: Int! }
  enum Genre { DRAMA SCIFI }
  type Film { id: ID! title: String! stars: Int genre: Genre director: Person }
  type Person { id: ID! name: String! }
  type FilmConnection { edges: [FilmEdge!]! pageInfo: PageInfo! }
  type FilmEdge { node: Film! cursor: String! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
`);

const films = [
  { id: "1", title: "A New Hope", stars: 5, genre: "SCIFI", director: { id: "p1", name: "George Lucas" } },
  { id: "2", title: "The Empire Strikes Back", stars: 5, genre: "SCIFI", director: { id: "p2", name: "Irvin Kershner" } },
];

const rootValue = {
  film: ({ id }) => {
    const film = films.find((f) => f.id === id);
    if (!film) throw new Error(`no film has the id ${id}`);
    return film;
  },
  films: ({ first }) => {
    const page = films.slice(0, first ?? films.length);
    return {
      edges: page.map((node) => ({ node, cursor: `c${node.id}` })),
      pageInfo: { hasNextPage: page.length < films.length, endCursor: page.length ? `c${page.at(-1).id}` : null },
    };
  },
  fail: () => {
    throw new Error("the fail field always fails");
  },
  rateFilm: ({ input }) => {
    const film = films.find((f) => f.id === input.id);
    if (!film) throw new Error(`no film has the id ${input.id}`);
    film.stars = input.stars;
    return film;
  },
};

const handler = createHandler({ schema, rootValue });
const server = http.createServer((req, res) => {
  if (req.headers["x-api-key"] !== "gql-key") {
    res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ message: "missing or wrong x-api-key" }] }));
    return;
  }
  if (new URL(req.url, "http://localhost").pathname !== "/graphql") {
    res.writeHead(404).end();
    return;
  }
  handler(req, res);
});
server.listen(0, "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${server.address().port}/graphql`);
});
