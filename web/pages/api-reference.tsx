/** API reference: every /api/v1 operation from the OpenAPI document, its parameters, body and answers. */
import type { OpenApiDocument, OpenApiOperation } from '../../server/http/openapi.ts';
import { Layout, type PageContext } from '../components/layout.tsx';
import { Badge } from '../components/parts.tsx';

type JsonSchema = Record<string, unknown>;
/** One line of a schema table: a dotted field path (`events[].credits`) and what it accepts. */
type FieldRow = { path: string; type: string; required: boolean; rules: string };

const RULE_KEYS: [string, string][] = [
  ['minLength', 'min length'],
  ['maxLength', 'max length'],
  ['minimum', '≥'],
  ['exclusiveMinimum', '>'],
  ['maximum', '≤'],
  ['minItems', 'min items'],
  ['maxItems', 'max items'],
  ['pattern', 'pattern'],
  ['format', 'format'],
  ['default', 'default'],
];
// zod writes integers' safe range as bounds; they say nothing to a reader.
const SAFE = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

function typeOf(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alternatives = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return alternatives.map(typeOf).join(' | ');
  if (Array.isArray(s.type)) return s.type.join(' | ');
  if (s.type === 'array') return `array of ${typeOf((s.items as JsonSchema | undefined) ?? {})}`;
  return typeof s.type === 'string' ? s.type : 'any';
}

function rulesOf(s: JsonSchema): string {
  const alternatives = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  const parts = RULE_KEYS.filter(([k]) => s[k] !== undefined && !SAFE.has(s[k] as number)).map(
    ([k, label]) => `${label} ${JSON.stringify(s[k])}`,
  );
  if (alternatives) parts.push(...alternatives.map(rulesOf).filter(Boolean));
  if (typeof s.description === 'string') parts.push(s.description);
  return parts.join('; ');
}

/** Object properties, walked into nested objects and arrays of objects. */
export function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (!props) return [];
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(props).flatMap(([name, s]) => {
    const path = `${prefix}${name}`;
    const row: FieldRow = { path, type: typeOf(s), required: required.has(name), rules: rulesOf(s) };
    const items = s.type === 'array' ? (s.items as JsonSchema | undefined) : undefined;
    const nested = items ? fieldRows(items, `${path}[].`) : fieldRows(s, `${path}.`);
    return [row, ...nested];
  });
}

function FieldTable(props: { rows: FieldRow[]; label: string }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{props.label}</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Required</th>
            <th scope="col">Rules</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <td>
                <code>{r.path}</code>
              </td>
              <td>{r.type}</td>
              <td>{r.required ? 'yes' : 'no'}</td>
              <td>{r.rules}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const anchorOf = (op: OpenApiOperation) => `op-${op.operationId}`;

function Operation(props: { method: string; path: string; op: OpenApiOperation }) {
  const { op } = props;
  const body = op.requestBody?.content['application/json'].schema;
  const params = op.parameters.map((p) => ({
    path: `${p.name} (${p.in})`,
    type: typeOf(p.schema),
    required: p.required,
    rules: rulesOf(p.schema),
  }));
  return (
    <section class="api-op" id={anchorOf(op)} aria-labelledby={`${anchorOf(op)}-h`}>
      <h3 id={`${anchorOf(op)}-h`}>
        <code>
          {props.method.toUpperCase()} {props.path}
        </code>
      </h3>
      <p>
        {op.summary}{' '}
        {op['x-keywatch-scope'] ? (
          <Badge tone="info">scope {op['x-keywatch-scope']}</Badge>
        ) : (
          <Badge tone="muted">public</Badge>
        )}
      </p>
      {op.description && <p>{op.description}</p>}
      {params.length > 0 && <FieldTable rows={params} label="Parameters" />}
      {body && (
        <>
          <h4>Request body{op.requestBody?.required ? '' : ' (optional)'}</h4>
          {fieldRows(body).length > 0 ? (
            <FieldTable rows={fieldRows(body)} label="Request body fields" />
          ) : (
            <pre class="code">{JSON.stringify(body, null, 2)}</pre>
          )}
        </>
      )}
      <p class="muted">
        Answers:{' '}
        {Object.entries(op.responses)
          .map(([status, r]) => `${status} ${r.description}`)
          .join(' · ')}
      </p>
    </section>
  );
}

export function ApiReferencePage({ ctx, doc }: { ctx: PageContext; doc: OpenApiDocument }) {
  const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );
  return (
    <Layout ctx={ctx} title="API reference" active="/settings" script="api-reference">
      <p>
        Every <code>/api/v1</code> operation, from the same schemas that check requests. Send{' '}
        <code>Authorization: Bearer &lt;token&gt;</code> with a token of the scope shown (create one in{' '}
        <a href="/settings#tokens-h">Settings</a>). Errors are{' '}
        <code>{'{"error": {"code", "message", "issues"?}}'}</code>. Machine-readable:{' '}
        <a href="/api/v1/openapi.json">
          <code>/api/v1/openapi.json</code>
        </a>{' '}
        (OpenAPI {doc.openapi}, version {doc.info.version}).
      </p>
      {doc.tags.map((tag) => (
        <section aria-labelledby={`tag-${tag.name}`}>
          <h2 id={`tag-${tag.name}`}>{tag.name}</h2>
          <ul class="api-index">
            {ops
              .filter((o) => o.op.tags.includes(tag.name))
              .map((o) => (
                <li>
                  <a href={`#${anchorOf(o.op)}`}>
                    <code>
                      {o.method.toUpperCase()} {o.path}
                    </code>
                  </a>{' '}
                  {o.op.summary}
                </li>
              ))}
          </ul>
          {ops
            .filter((o) => o.op.tags.includes(tag.name))
            .map((o) => (
              <Operation method={o.method} path={o.path} op={o.op} />
            ))}
        </section>
      ))}
    </Layout>
  );
}
