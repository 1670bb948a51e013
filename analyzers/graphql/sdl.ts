// GraphQL SDL reconstructed from the inventory (`--graphql-sdl out.graphql`), like OpenAPI from REST.
//
// Input is the public EndpointRecord list (a stored inventory works too): the GraphQL operation
// endpoints (`operation` set) and their field shapes, `response.body $.data.user.email:string`. Root
// fields go to Query / Mutation / Subscription by the operation's type; a nested object gets a type
// named after its field (PascalCase, a list's item without a plural `s`; one name from several places
// merges their fields); JSON types map to scalars (string → String, integer → Int, number → Float,
// boolean → Boolean; an object seen without fields, or only null, → the JSON scalar). Every field is
// nullable (traffic cannot show non-null). What traffic cannot show is left out: argument lists
// (documents are not stored), interfaces and unions; a second alias of one field stays a key. Operations are
// listed in the header comment with their variables. Deterministic: sorted output.
import type { EndpointRecord } from '../../engine/contracts/inventory.js';

interface Shape {
  types: Set<string>;
  props: Map<string, Shape>;
  item: Shape | null;
}
const shape = (): Shape => ({ types: new Set(), props: new Map(), item: null });

const ROOT: Record<string, string> = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };
const SCALAR: Record<string, string> = { string: 'String', integer: 'Int', number: 'Float', boolean: 'Boolean' };
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** "$.a.b[*].c" into steps (names and '[*]'); null for keys that are no GraphQL names. */
function steps(path: string): string[] | null {
  const out: string[] = [];
  const re = /\.([_A-Za-z][_0-9A-Za-z]*)|\[\*\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return null;
    out.push(m[1] ?? '[*]');
  }
  return out;
}

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function insert(root: Shape, st: readonly string[], type: string): void {
  let n = root;
  for (const s of st) {
    if (s === '[*]') {
      n.types.add('array');
      n = n.item ??= shape();
    } else {
      n.types.add('object');
      let c = n.props.get(s);
      if (c === undefined) n.props.set(s, (c = shape()));
      n = c;
    }
  }
  n.types.add(type);
}

/** The SDL document (text) of the GraphQL operations in `endpoints`; '' when there are none. */
export function toGraphqlSdl(endpoints: readonly EndpointRecord[]): string {
  const ops = endpoints.filter((e) => e.operation !== undefined);
  if (ops.length === 0) return '';
  const roots = new Map<string, Shape>();
  const header: string[] = [];
  for (const e of [...ops].sort((a, b) => cmp(`${a.host} ${a.path} ${a.method}`, `${b.host} ${b.path} ${b.method}`))) {
    const op = e.operation as string;
    const type = op.slice(0, op.indexOf(' '));
    const vars: string[] = [];
    const root = ROOT[type];
    let r: Shape | undefined;
    if (root !== undefined) {
      r = roots.get(root);
      if (r === undefined) roots.set(root, (r = shape()));
    }
    for (const f of e.fields) {
      const m = /^(request|response)\.body (\$\S*):(\w+)$/.exec(f);
      if (!m) continue;
      const st = steps(m[2] as string);
      if (st === null) continue;
      if (m[1] === 'request' && st[0] === 'variables' && st.length === 2 && m[3] !== 'object' && m[3] !== 'array')
        vars.push(`$${st[1] as string}: ${SCALAR[m[3] as string] ?? 'JSON'}`);
      if (m[1] === 'response' && st[0] === 'data' && r !== undefined && st.length > 1)
        insert(r, st.slice(1), m[3] as string);
    }
    const v = [...new Set(vars)].sort();
    header.push(
      `#   ${op}${v.length > 0 ? `(${v.join(', ')})` : ''}: ${e.method} ${e.host}${e.path.slice(0, e.path.length - op.replace(' ', '/').length - 1)}, ${e.hits} calls, ${e.graphqlErrors ?? 0} with errors`,
    );
  }

  // Object types by name; fields by name → GraphQL type reference.
  const types = new Map<string, Map<string, string>>();
  let needsJson = false;
  const typeRef = (n: Shape, field: string, list: boolean): string => {
    if (n.types.has('array') && n.item !== null) return `[${typeRef(n.item, field, true)}]`;
    if (n.types.has('object') && n.props.size > 0) {
      let name = pascal(field);
      if (list && name.length > 3 && name.endsWith('s') && !name.endsWith('ss')) name = name.slice(0, -1);
      if (ROOT[name.toLowerCase()] !== undefined || SCALAR[name.toLowerCase()] !== undefined || name === 'JSON')
        name += 'Object';
      addType(name, n);
      if ((types.get(name)?.size ?? 0) > 0) return name;
    }
    const scalars = [...n.types].filter((t) => SCALAR[t] !== undefined);
    if (scalars.length === 1) return SCALAR[scalars[0] as string] as string;
    if (scalars.length === 2 && scalars.includes('integer') && scalars.includes('number')) return 'Float';
    needsJson = true;
    return 'JSON';
  };
  const addType = (name: string, n: Shape): void => {
    let t = types.get(name);
    if (t === undefined) types.set(name, (t = new Map()));
    for (const [k, c] of n.props) {
      if (!NAME.test(k) || k.startsWith('__')) continue;
      const ref = typeRef(c, k, false);
      const prev = t.get(k);
      t.set(k, prev === undefined || prev === ref ? ref : prev === 'JSON' ? ref : prev);
    }
  };
  for (const [name, r] of [...roots].sort(([a], [b]) => cmp(a, b))) addType(name, r);

  const out: string[] = [
    '# GraphQL schema reconstructed by apitap from observed traffic: the fields responses carried',
    '# (aliases renamed to their fields; a second alias of one field stays a key). Arguments,',
    '# non-null markers, interfaces and unions are not visible in traffic. Operations seen:',
    ...header,
    '',
  ];
  if (needsJson) out.push('"Any JSON value (an object seen without fields, or only null)."', 'scalar JSON', '');
  for (const name of [...types.keys()].sort(cmp)) {
    const fields = types.get(name) as Map<string, string>;
    if (fields.size === 0) continue;
    out.push(`type ${name} {`);
    for (const k of [...fields.keys()].sort(cmp)) out.push(`  ${k}: ${fields.get(k) as string}`);
    out.push('}', '');
  }
  return out.join('\n');
}
