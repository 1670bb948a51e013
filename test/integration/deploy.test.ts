// The deployment artefacts (deploy/docker, deploy/compose, deploy/k8s, deploy/aws, .dockerignore),
// checked without a Docker engine, a cluster or AWS:
// - always: every YAML/JSON parses; structural checks that tie the pieces together (labels and
//   selectors, named ports, ConfigMap keys, health ports, env-only credentials, Dockerfile rules,
//   Terraform variables declared);
// - with the tools of deploy/dev/install-deploy-tools.sh (installed into .cache/tools on first run):
//   hadolint, kubernetes-validate --strict (bundled Kubernetes schemas), check-jsonschema against
//   the bundled compose-spec schema, @cdktf/hcl2json (HCL parse), `terraform fmt -check` or hclfmt.
//   If the install fails (no registry), those tests are skipped with the reason, unless
//   APITAP_REQUIRE_DEPLOY_TOOLS=1. APITAP_DEPLOY_TOOLS=skip skips the install step.
//
// Run: node --import tsx --test test/integration/deploy.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/paths.js';

const deployDir = join(repoRoot, 'deploy');
const toolsDir = process.env['APITAP_TOOLS_DIR'] ?? join(repoRoot, '.cache', 'tools');
const rel = (p: string): string => relative(repoRoot, p);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown, what: string): Obj => {
  assert.ok(isObj(v), `${what}: expected a mapping`);
  return v;
};
const arr = (v: unknown, what: string): unknown[] => {
  assert.ok(Array.isArray(v), `${what}: expected a list`);
  return v;
};
const str = (v: unknown, what: string): string => {
  assert.equal(typeof v, 'string', `${what}: expected a string`);
  return v as string;
};

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '.terraform') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

// ---- tools ----------------------------------------------------------------------------------------

const toolsReason = ((): string | null => {
  if (process.env['APITAP_DEPLOY_TOOLS'] === 'skip') return 'APITAP_DEPLOY_TOOLS=skip';
  const r = spawnSync('bash', [join(repoRoot, 'deploy', 'dev', 'install-deploy-tools.sh')], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, APITAP_TOOLS_DIR: toolsDir },
  });
  if (r.status === 0) return null;
  return `deploy/dev/install-deploy-tools.sh failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
})();
const requireTools = process.env['APITAP_REQUIRE_DEPLOY_TOOLS'] === '1';

/** The path of a tool, or the reason it is missing (a skip message, or a failure when required). */
function tool(path: string, name: string): { path: string } | { skip: string } {
  if (existsSync(path)) return { path };
  const why = `${name} not available${toolsReason !== null ? `: ${toolsReason}` : ''}`;
  if (requireTools) assert.fail(why);
  return { skip: why };
}
const venvBin = (n: string): string => join(toolsDir, 'venv', 'bin', n);
function onPath(cmd: string): string | null {
  const r = spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
function runTool(cmd: string, args: string[], cwd = repoRoot): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

// ---- every YAML and JSON file -----------------------------------------------------------------------

describe('deploy files parse', () => {
  const files = walk(deployDir).concat(
    ['compose', 'k8s'].flatMap((d) => (existsSync(join(deployDir, d)) ? [] : [join(deployDir, d, 'MISSING.yaml')])),
  );
  it('every YAML document under deploy/ parses', () => {
    const yamls = files.filter((f) => /\.ya?ml$/.test(f));
    assert.ok(yamls.length >= 6, `found only ${yamls.length} YAML files`);
    for (const f of yamls) {
      assert.ok(existsSync(f), `${rel(f)} missing`);
      for (const doc of parseAllDocuments(readFileSync(f, 'utf8'), { merge: true })) {
        assert.deepEqual(
          doc.errors.map((e) => e.message),
          [],
          `${rel(f)}`,
        );
      }
    }
  });
  it('every JSON file under deploy/ parses', () => {
    for (const f of files.filter((f) => f.endsWith('.json'))) {
      assert.doesNotThrow(() => JSON.parse(readFileSync(f, 'utf8')), rel(f));
    }
  });
});

// ---- Kubernetes -----------------------------------------------------------------------------------

const k8sDir = join(deployDir, 'k8s');
const k8sFiles = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
interface K8s {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  doc: Obj;
}
const k8sObjects: K8s[] = k8sFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null && d !== undefined)
    .map((d) => {
      const doc = obj(d, file);
      const meta = obj(doc['metadata'], `${file}: metadata`);
      return {
        file,
        apiVersion: str(doc['apiVersion'], `${file}: apiVersion`),
        kind: str(doc['kind'], `${file}: kind`),
        name: str(meta['name'], `${file}: metadata.name`),
        doc,
      };
    }),
);
const ofKind = (kind: string): K8s[] => k8sObjects.filter((o) => o.kind === kind);
const podSpec = (d: K8s): Obj =>
  obj(obj(obj(d.doc['spec'], 'spec')['template'], 'template')['spec'], `${d.name}: pod spec`);
const templateLabels = (d: K8s): Obj =>
  obj(
    obj(obj(obj(d.doc['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['labels'],
    `${d.name}: template labels`,
  );
const matches = (selector: Obj, labels: Obj): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
const containers = (d: K8s): Obj[] =>
  arr(podSpec(d)['containers'], `${d.name}: containers`).map((c) => obj(c, `${d.name}: container`));
const containerPorts = (d: K8s): Obj[] =>
  containers(d).flatMap((c) => ((c['ports'] as unknown[] | undefined) ?? []).map((p) => obj(p, 'port')));
const workloads = (): K8s[] => k8sObjects.filter((o) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(o.kind));

describe('kubernetes manifests', () => {
  it('kustomization lists every manifest but the example Secret, in namespace apitap', () => {
    const k = obj(parseYaml(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')), 'kustomization');
    assert.equal(k['kind'], 'Kustomization');
    assert.equal(k['namespace'], 'apitap');
    const resources = arr(k['resources'], 'resources').map((r) => str(r, 'resource'));
    for (const r of resources) assert.ok(existsSync(join(k8sDir, r)), `kustomization resource ${r} missing`);
    assert.deepEqual([...resources].sort(), k8sFiles.filter((f) => !f.includes('example')).sort());
    assert.ok(!resources.some((r) => r.includes('secret')), 'a Secret with placeholders must not be applied');
  });

  it('has the expected objects, each with apiVersion, kind and name', () => {
    const kinds = new Set(k8sObjects.map((o) => `${o.kind}/${o.name}`));
    for (const want of [
      'Namespace/apitap',
      'ConfigMap/apitap-config',
      'ConfigMap/apitap-specs',
      'Secret/apitap-credentials',
      'Deployment/apitap-collector',
      'Deployment/apitap-analyzer',
      'Service/apitap-collector',
      'HorizontalPodAutoscaler/apitap-analyzer',
      'PodDisruptionBudget/apitap-collector',
      'PodDisruptionBudget/apitap-analyzer',
    ]) {
      assert.ok(kinds.has(want), `missing ${want}`);
    }
  });

  it('workloads: selector ⊆ template labels, non-root read-only containers with resources and probes', () => {
    for (const d of workloads()) {
      const sel = obj(obj(obj(d.doc['spec'], 'spec')['selector'], 'selector')['matchLabels'], `${d.name}: matchLabels`);
      assert.ok(
        Object.keys(sel).length > 0 && matches(sel, templateLabels(d)),
        `${d.name}: selector does not match the pod labels`,
      );
      const pod = podSpec(d);
      const psc = obj(pod['securityContext'], `${d.name}: pod securityContext`);
      assert.equal(psc['runAsNonRoot'], true, `${d.name}: runAsNonRoot`);
      assert.equal(psc['runAsUser'], 10001, `${d.name}: runAsUser must be the image's uid 10001`);
      assert.equal(pod['automountServiceAccountToken'], false, `${d.name}: no API token`);
      const volumes = new Set(((pod['volumes'] as unknown[] | undefined) ?? []).map((v) => obj(v, 'volume')['name']));
      for (const c of containers(d)) {
        const cname = `${d.name}/${String(c['name'])}`;
        assert.match(str(c['image'], `${cname}: image`), /^[\w./-]+:[\w.-]+$/, `${cname}: image with an explicit tag`);
        const res = obj(c['resources'], `${cname}: resources`);
        const req = obj(res['requests'], `${cname}: requests`);
        assert.ok(req['cpu'] !== undefined && req['memory'] !== undefined, `${cname}: cpu and memory requests`);
        assert.ok(obj(res['limits'], `${cname}: limits`)['memory'] !== undefined, `${cname}: memory limit`);
        const sc = obj(c['securityContext'], `${cname}: securityContext`);
        assert.equal(sc['allowPrivilegeEscalation'], false, `${cname}: allowPrivilegeEscalation`);
        assert.equal(sc['readOnlyRootFilesystem'], true, `${cname}: readOnlyRootFilesystem`);
        assert.deepEqual(obj(sc['capabilities'], 'capabilities')['drop'], ['ALL'], `${cname}: drop ALL capabilities`);
        const mounts = ((c['volumeMounts'] as unknown[] | undefined) ?? []).map((m) => obj(m, 'volumeMount'));
        for (const m of mounts)
          assert.ok(volumes.has(m['name']), `${cname}: volumeMount ${String(m['name'])} has no volume`);
        assert.ok(
          mounts.some((m) => m['mountPath'] === '/tmp'),
          `${cname}: read-only root needs a writable /tmp`,
        );
        const portNames = new Set(((c['ports'] as unknown[] | undefined) ?? []).map((p) => obj(p, 'port')['name']));
        for (const probe of ['readinessProbe', 'livenessProbe']) {
          const p = obj(obj(c[probe], `${cname}: ${probe}`)['httpGet'], `${cname}: ${probe}.httpGet`);
          assert.ok(
            portNames.has(p['port']),
            `${cname}: ${probe} port ${String(p['port'])} is not a named container port`,
          );
        }
        // $(VAR) in args must be defined in env, ConfigMap keys must exist, credentials only via the Secret.
        const env = ((c['env'] as unknown[] | undefined) ?? []).map((e) => obj(e, 'env'));
        const envNames = new Set(env.map((e) => e['name']));
        const args = arr(c['args'], `${cname}: args`).map((a) => str(a, 'arg'));
        for (const a of args) {
          for (const m of a.matchAll(/\$\(([A-Z_][A-Z0-9_]*)\)/g))
            assert.ok(envNames.has(m[1]), `${cname}: args use $(${m[1]}) but env lacks it`);
          assert.doesNotMatch(a, /password|secret|:\/\/[^/\s]*:[^/\s]*@/i, `${cname}: a credential in args: ${a}`);
        }
        for (const e of env) {
          assert.doesNotMatch(
            String(e['name']),
            /PASSWORD|SECRET/,
            `${cname}: ${String(e['name'])} must come from the Secret (envFrom), not a literal`,
          );
          const ref = isObj(e['valueFrom']) ? e['valueFrom']['configMapKeyRef'] : undefined;
          if (isObj(ref)) {
            const cm = ofKind('ConfigMap').find((o) => o.name === ref['name']);
            assert.ok(cm, `${cname}: ConfigMap ${String(ref['name'])} missing`);
            assert.ok(
              Object.hasOwn(obj(cm.doc['data'], 'data'), str(ref['key'], 'key')),
              `${cname}: ConfigMap key ${String(ref['key'])} missing`,
            );
          }
        }
        const secretRefs = ((c['envFrom'] as unknown[] | undefined) ?? []).map(
          (e) => obj(obj(e, 'envFrom')['secretRef'], 'secretRef')['name'],
        );
        assert.deepEqual(
          secretRefs,
          ['apitap-credentials'],
          `${cname}: credentials from the Secret apitap-credentials`,
        );
      }
    }
  });

  it('collector: VXLAN 4789/udp + TCP health port, behind an AWS NLB (ip targets) that checks the health port', () => {
    const d = ofKind('Deployment').find((o) => o.name === 'apitap-collector');
    assert.ok(d);
    const c = containers(d)[0];
    assert.ok(c);
    const args = arr(c['args'], 'args').join(' ');
    assert.match(args, /^collect --vxlan 0\.0\.0\.0:4789 .*--health-port 8080/);
    const ports = containerPorts(d);
    const vxlan = ports.find((p) => p['name'] === 'vxlan');
    const health = ports.find((p) => p['name'] === 'health');
    assert.deepEqual([vxlan?.['containerPort'], vxlan?.['protocol']], [4789, 'UDP']);
    assert.deepEqual([health?.['containerPort'], health?.['protocol']], [8080, 'TCP']);
    const svc = ofKind('Service').find((o) => o.name === 'apitap-collector');
    assert.ok(svc);
    const spec = obj(svc.doc['spec'], 'spec');
    assert.equal(spec['type'], 'LoadBalancer');
    const ann = obj(obj(svc.doc['metadata'], 'metadata')['annotations'], 'annotations');
    assert.equal(ann['service.beta.kubernetes.io/aws-load-balancer-type'], 'external');
    assert.equal(ann['service.beta.kubernetes.io/aws-load-balancer-nlb-target-type'], 'ip');
    assert.equal(
      ann['service.beta.kubernetes.io/aws-load-balancer-healthcheck-port'],
      String(health?.['containerPort']),
      'NLB health check on the TCP health port',
    );
    assert.match(String(ann['service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol']), /^(tcp|http)$/i);
    const sp = arr(spec['ports'], 'ports').map((p) => obj(p, 'port'));
    assert.deepEqual(
      sp.map((p) => [p['port'], p['protocol']]),
      [[4789, 'UDP']],
    );
  });

  it('Services, PDBs and HPAs select existing workloads; named targetPorts exist with the same protocol', () => {
    for (const s of ofKind('Service')) {
      const spec = obj(s.doc['spec'], `${s.name}: spec`);
      const sel = obj(spec['selector'], `${s.name}: selector`);
      const targets = workloads().filter((d) => matches(sel, templateLabels(d)));
      assert.equal(targets.length, 1, `${s.name}: selects ${targets.length} workloads`);
      const [w] = targets;
      assert.ok(w);
      for (const p of arr(spec['ports'], 'ports').map((x) => obj(x, 'port'))) {
        const cp: Obj | undefined = containerPorts(w).find(
          (x) => x['name'] === p['targetPort'] || x['containerPort'] === p['targetPort'],
        );
        assert.ok(cp, `${s.name}: targetPort ${String(p['targetPort'])} not in ${w.name}`);
        assert.equal(
          cp['protocol'] ?? 'TCP',
          p['protocol'] ?? 'TCP',
          `${s.name}: protocol of ${String(p['targetPort'])}`,
        );
      }
    }
    for (const p of ofKind('PodDisruptionBudget')) {
      const sel = obj(obj(obj(p.doc['spec'], 'spec')['selector'], 'selector')['matchLabels'], 'matchLabels');
      assert.equal(
        workloads().filter((d) => matches(sel, templateLabels(d))).length,
        1,
        `${p.name}: selects one workload`,
      );
    }
    for (const h of ofKind('HorizontalPodAutoscaler')) {
      const spec = obj(h.doc['spec'], 'spec');
      const ref = obj(spec['scaleTargetRef'], 'scaleTargetRef');
      assert.ok(
        workloads().some((d) => d.kind === ref['kind'] && d.name === ref['name']),
        `${h.name}: target missing`,
      );
      assert.ok(Number(spec['maxReplicas']) >= Number(spec['minReplicas'] ?? 1));
      assert.ok(JSON.stringify(spec['metrics']).includes('"cpu"'), `${h.name}: scales on CPU`);
    }
  });

  it('analyzer --spec files are keys of the mounted specs ConfigMap', () => {
    const d = ofKind('Deployment').find((o) => o.name === 'apitap-analyzer');
    assert.ok(d);
    const c = containers(d)[0];
    assert.ok(c);
    const args = arr(c['args'], 'args').map((a) => String(a));
    assert.equal(args[0], 'analyze');
    assert.ok(args.includes('--clickhouse') && args.includes('--kafka'));
    const specKeys = Object.keys(
      obj(ofKind('ConfigMap').find((o) => o.name === 'apitap-specs')?.doc['data'], 'specs data'),
    );
    args.forEach((a, i) => {
      if (a !== '--spec') return;
      const file = args[i + 1] ?? '';
      assert.ok(
        file.startsWith('/etc/apitap/specs/') && specKeys.includes(file.slice('/etc/apitap/specs/'.length)),
        `--spec ${file} is not in ConfigMap apitap-specs`,
      );
    });
  });

  it('kubernetes-validate --strict (bundled schemas, Kubernetes 1.30)', (t) => {
    const kv = tool(venvBin('kubernetes-validate'), 'kubernetes-validate');
    if ('skip' in kv) return t.skip(kv.skip);
    const r = runTool(kv.path, ['--strict', '--quiet', '-k', '1.30.0', ...k8sFiles.map((f) => join(k8sDir, f))]);
    assert.equal(r.status, 0, r.out);
  });
});

// ---- compose --------------------------------------------------------------------------------------

describe('compose stack', () => {
  const composeDir = join(deployDir, 'compose');
  const composeFile = join(composeDir, 'compose.yaml');
  const compose = obj(parseYaml(readFileSync(composeFile, 'utf8'), { merge: true }), 'compose');
  const services = obj(compose['services'], 'services');
  const svc = (n: string): Obj => obj(services[n], `service ${n}`);
  const cmd = (n: string): string => arr(svc(n)['command'], `${n}: command`).join(' ');

  it('Kafka in KRaft mode, ClickHouse, a collector and an analyzer', () => {
    assert.match(str(svc('kafka')['image'], 'kafka image'), /^apache\/kafka:4\.\d+\.\d+$/);
    const kenv = obj(svc('kafka')['environment'], 'kafka env');
    assert.equal(kenv['KAFKA_PROCESS_ROLES'], 'broker,controller');
    assert.match(str(svc('clickhouse')['image'], 'clickhouse image'), /^clickhouse\/clickhouse-server:\d+\.\d+/);
    assert.match(cmd('collector'), /^collect --vxlan 0\.0\.0\.0:4789 --kafka kafka:9092 .*--health-port 8080/);
    assert.ok(
      arr(svc('collector')['ports'], 'collector ports').includes('4789:4789/udp'),
      'VXLAN published on the host',
    );
    assert.match(cmd('analyzer'), /^analyze --kafka kafka:9092 .*--clickhouse http:\/\/clickhouse:8123\/\w+/);
  });

  it('depends_on conditions point at services with healthchecks or one-shot jobs', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = obj(s, name)['depends_on'];
      if (deps === undefined) continue;
      for (const [dep, cond] of Object.entries(obj(deps, `${name}: depends_on`))) {
        const condition = obj(cond, `${name} → ${dep}`)['condition'];
        assert.ok(services[dep] !== undefined, `${name} depends on unknown ${dep}`);
        if (condition === 'service_healthy')
          assert.ok(isObj(svc(dep)['healthcheck']) && svc(dep)['healthcheck'] !== null, `${dep} has no healthcheck`);
        else assert.equal(condition, 'service_completed_successfully', `${name} → ${dep}: ${String(condition)}`);
      }
    }
    for (const n of ['kafka', 'clickhouse', 'collector', 'analyzer'])
      assert.ok(isObj(svc(n)['healthcheck']), `${n}: healthcheck`);
  });

  it('credentials come from .env (example has placeholders only), never from a command line', () => {
    const example = readFileSync(join(composeDir, '.env.example'), 'utf8');
    const defined = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    for (const m of readFileSync(composeFile, 'utf8').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g))
      assert.ok(defined.has(m[1]), `.env.example lacks ${m[1]}`);
    for (const line of example.split('\n')) {
      const m = /^([A-Z0-9_]*(?:PASSWORD|SECRET))=(.*)$/.exec(line);
      if (m) assert.match(m[2] ?? '', /^CHANGE_ME/, `${m[1]} in .env.example must be a placeholder`);
    }
    assert.match(readFileSync(join(composeDir, '.gitignore'), 'utf8'), /^\.env$/m, '.env is git-ignored');
    for (const [name, s] of Object.entries(services)) {
      const all = JSON.stringify([obj(s, name)['command'] ?? [], obj(s, name)['entrypoint'] ?? []]);
      assert.doesNotMatch(all, /password|APITAP_SECRET/i, `${name}: credential on a command line`);
      const env = obj(s, name)['environment'];
      if (isObj(env)) {
        for (const [k, v] of Object.entries(env)) {
          if (/PASSWORD|SECRET/.test(k))
            assert.match(String(v), /^\$\{/, `${name}: ${k} must be interpolated from .env`);
        }
      }
    }
    for (const n of ['collector', 'analyzer']) assert.deepEqual(svc(n)['env_file'], ['.env']);
  });

  it('named volumes are declared', () => {
    const declared = new Set(Object.keys(obj(compose['volumes'], 'volumes')));
    for (const [name, s] of Object.entries(services)) {
      for (const v of (obj(s, name)['volumes'] as unknown[] | undefined) ?? []) {
        const src = String(v).split(':')[0] ?? '';
        if (!src.startsWith('.') && !src.startsWith('/'))
          assert.ok(declared.has(src), `${name}: volume ${src} not declared`);
        else if (src.startsWith('.'))
          assert.ok(existsSync(join(composeDir, src)), `${name}: bind source ${src} missing`);
      }
    }
  });

  it('validates against the compose-spec JSON schema (check-jsonschema, bundled schema)', (t) => {
    const cj = tool(venvBin('check-jsonschema'), 'check-jsonschema');
    if ('skip' in cj) return t.skip(cj.skip);
    const r = runTool(cj.path, ['--builtin-schema', 'vendor.compose-spec', composeFile]);
    assert.equal(r.status, 0, r.out);
  });
});

// ---- Dockerfile -----------------------------------------------------------------------------------

interface Instr {
  op: string;
  args: string;
}
function dockerInstructions(text: string): Instr[] {
  const out: Instr[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (cur === '' && /^\s*(#|$)/.test(line)) continue;
    if (/^\s*#/.test(line)) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1) + ' ';
      continue;
    }
    cur += line;
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(cur);
    if (m) out.push({ op: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim() });
    cur = '';
  }
  return out;
}

/** Node LTS lines the project supports besides 20.19+ (README "Two commands"; test/run.sh runs the newest). */
const SUPPORTED_LTS = ['24', '26'];

describe('Dockerfile', () => {
  const dockerfile = join(deployDir, 'docker', 'Dockerfile');
  const instr = dockerInstructions(readFileSync(dockerfile, 'utf8'));
  const lastFrom = instr.map((i) => i.op).lastIndexOf('FROM');
  const runtime = instr.slice(lastFrom);
  const args = new Map(instr.filter((i) => i.op === 'ARG').map((i) => i.args.split('=') as [string, string]));
  const expand = (s: string): string => s.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? `\${${n}}`);

  it('multi-stage, every base pinned to a version tag, glibc slim runtime', () => {
    const froms = instr.filter((i) => i.op === 'FROM');
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const f of froms) {
      const image = expand(f.args.split(/\s+/)[0] ?? '');
      assert.match(image, /^[\w./-]+:\d+[\w.-]*$/, `FROM ${image}: pin a version tag`);
      assert.doesNotMatch(image, /alpine|:latest/, `FROM ${image}: chDB needs glibc`);
    }
    const base = expand(runtime[0]?.args ?? '');
    const node = /^node:(\d+)\.\d+\.\d+-bookworm-slim\b/.exec(base);
    assert.ok(node, `runtime ${base}: node:<exact version>-bookworm-slim`);
    assert.ok(
      SUPPORTED_LTS.includes(node[1] ?? ''),
      `runtime Node ${node[1]}: a supported LTS line (${SUPPORTED_LTS})`,
    );
    for (const f of froms) assert.equal(expand(f.args.split(/\s+/)[0] ?? ''), base.split(/\s+/)[0], 'one Node for all');
  });

  it('npm ci everywhere: the image installs exactly package-lock.json', () => {
    const npm = instr.filter((i) => i.op === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args)).map((i) => i.args);
    assert.ok(npm.length >= 2, 'build and deps stages install');
    for (const run of npm) assert.doesNotMatch(run, /\bnpm (install|i)\b/, `${run}: npm ci, not npm install`);
  });

  it('runtime: non-root uid 10001, dist + migrations + prod node_modules, entrypoint, ports, healthcheck', () => {
    const ops = (op: string): string[] => runtime.filter((i) => i.op === op).map((i) => i.args);
    const users = ops('USER');
    assert.equal(users.at(-1), '10001:10001');
    const userAt = runtime.findIndex((i) => i.op === 'USER');
    assert.ok(
      runtime.slice(userAt).every((i) => i.op !== 'RUN' && i.op !== 'COPY'),
      'nothing is installed after USER (files stay root-owned)',
    );
    const copies = ops('COPY').join('\n');
    for (const want of [
      /--from=build \S*\/dist \.\/dist/,
      /--from=deps \S*\/node_modules \.\/node_modules/,
      /^deploy\/clickhouse \.\/deploy\/clickhouse$/m,
      /^package\.json \.\/$/m,
    ]) {
      assert.match(copies, want);
    }
    assert.ok(
      instr.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args)),
      'production dependencies only',
    );
    assert.deepEqual(JSON.parse(ops('ENTRYPOINT')[0] ?? 'null'), ['node', '/app/dist/engine/app/cli/main.js']);
    const exposed = ops('EXPOSE').join(' ').split(/\s+/);
    assert.ok(exposed.includes('4789/udp') && exposed.includes('8080/tcp'), `EXPOSE ${exposed.join(' ')}`);
    assert.match(ops('HEALTHCHECK')[0] ?? '', /CMD .*healthz/);
    assert.match(ops('LABEL').join(' '), /org\.opencontainers\.image\.title="apitap"/);
    assert.ok(!instr.some((i) => i.op === 'ADD'), 'COPY, not ADD');
  });

  it('.dockerignore is an allow-list that lets in exactly what COPY needs', () => {
    const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(lines[0], '*', 'everything excluded first');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    for (const c of instr.filter((i) => i.op === 'COPY' && !i.args.includes('--from='))) {
      const srcs = c.args
        .split(/\s+/)
        .filter((s) => !s.startsWith('--'))
        .slice(0, -1);
      for (const s of srcs) {
        assert.ok(
          allowed.some((a) => s === a || s.startsWith(`${a}/`)),
          `COPY ${s} is excluded by .dockerignore`,
        );
        assert.ok(existsSync(join(repoRoot, s)), `COPY ${s}: missing in the repository`);
      }
    }
    for (const secret of ['**/.env', '**/*.test.ts'])
      assert.ok(lines.includes(secret), `.dockerignore re-excludes ${secret}`);
    assert.ok(existsSync(join(repoRoot, 'deploy', 'clickhouse', '001_schema_migrations.sql')));
  });

  it('the image build tsconfig compiles the sources without the tests', () => {
    const ts = obj(
      JSON.parse(readFileSync(join(deployDir, 'docker', 'tsconfig.build.json'), 'utf8')),
      'tsconfig.build.json',
    );
    assert.equal(ts['extends'], '../../tsconfig.json');
    assert.ok(arr(ts['exclude'], 'exclude').includes('../../**/*.test.ts'));
    const main = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(main.bin['apitap'], 'dist/engine/app/cli/main.js', 'ENTRYPOINT matches package.json bin');
  });

  it('hadolint (warnings fail)', (t) => {
    const h = tool(venvBin('hadolint'), 'hadolint');
    if ('skip' in h) return t.skip(h.skip);
    const r = runTool(h.path, ['--failure-threshold', 'warning', dockerfile]);
    assert.equal(r.status, 0, r.out);
  });
});

// ---- Terraform ------------------------------------------------------------------------------------

describe('AWS traffic mirroring (Terraform)', () => {
  const tfDir = join(deployDir, 'aws', 'terraform');
  const tfFiles = readdirSync(tfDir).filter((f) => f.endsWith('.tf'));
  const tfText = tfFiles.map((f) => readFileSync(join(tfDir, f), 'utf8')).join('\n');

  it('every var.X is declared, with a description and a type; outputs are described', () => {
    const declared = new Set([...tfText.matchAll(/^variable "(\w+)"/gm)].map((m) => m[1]));
    for (const m of tfText.matchAll(/\bvar\.(\w+)/g)) assert.ok(declared.has(m[1]), `var.${m[1]} is not declared`);
    for (const block of tfText.split(/^(?=variable |output )/m).filter((b) => /^(variable|output) /.test(b))) {
      assert.match(block, /^\s+description\s+=/m, `${block.split('\n')[0]}: description`);
      if (block.startsWith('variable')) assert.match(block, /^\s+type\s+=/m, `${block.split('\n')[0]}: type`);
    }
    const example = readFileSync(join(tfDir, 'terraform.tfvars.example'), 'utf8');
    for (const m of example.matchAll(/^#?\s*(\w+)\s+=/gm))
      assert.ok(declared.has(m[1]), `tfvars example sets undeclared ${m[1]}`);
  });

  it('parses as HCL (@cdktf/hcl2json) and wires NLB (UDP 4789, TCP health) → mirror target ← sessions per ENI', async (t) => {
    const lib = join(toolsDir, 'npm', 'node_modules', '@cdktf', 'hcl2json');
    const h = tool(lib, '@cdktf/hcl2json');
    if ('skip' in h) return t.skip(h.skip);
    const { parse } = createRequire(join(toolsDir, 'npm', 'package.json'))('@cdktf/hcl2json') as {
      parse(name: string, text: string): Promise<Obj>;
    };
    const res: Record<string, Record<string, Obj>> = {};
    let requiredAws: unknown;
    for (const f of [...tfFiles, 'terraform.tfvars.example']) {
      const doc = await parse(f, readFileSync(join(tfDir, f), 'utf8'));
      for (const [type, byName] of Object.entries(obj(doc['resource'] ?? {}, 'resource'))) {
        for (const [name, blocks] of Object.entries(obj(byName, type)))
          (res[type] ??= {})[name] = obj(arr(blocks, name)[0], name);
      }
      const tf = doc['terraform'];
      if (Array.isArray(tf))
        requiredAws = obj(arr(obj(tf[0], 'terraform')['required_providers'], 'rp')[0], 'rp')['aws'];
    }
    assert.equal(obj(requiredAws, 'aws provider')['version'], '~> 5.0');
    const one = (type: string, name: string): Obj => obj(res[type]?.[name], `${type}.${name}`);
    const listener = one('aws_lb_listener', 'vxlan');
    assert.equal(listener['protocol'], 'UDP');
    assert.equal(listener['port'], '${var.vxlan_port}');
    const tg = one('aws_lb_target_group', 'vxlan');
    assert.equal(tg['protocol'], 'UDP');
    const hc = obj(arr(tg['health_check'], 'health_check')[0], 'health_check');
    assert.match(String(hc['protocol']), /^(HTTP|TCP)$/);
    assert.equal(hc['port'], '${tostring(var.health_port)}', 'NLB checks the TCP health port, not UDP 4789');
    assert.equal(one('aws_lb', 'mirror')['load_balancer_type'], 'network');
    assert.equal(one('aws_ec2_traffic_mirror_target', 'collectors')['network_load_balancer_arn'], '${local.nlb_arn}');
    const rules = [
      one('aws_ec2_traffic_mirror_filter_rule', 'requests'),
      one('aws_ec2_traffic_mirror_filter_rule', 'responses'),
    ];
    assert.deepEqual(
      rules.map((r) => [r['traffic_direction'], r['rule_action'], r['protocol']]),
      [
        ['ingress', 'accept', 6],
        ['egress', 'accept', 6],
      ],
    );
    const session = one('aws_ec2_traffic_mirror_session', 'source');
    assert.equal(session['for_each'], '${toset(var.source_eni_ids)}');
    assert.equal(session['virtual_network_id'], '${var.virtual_network_id}');
    assert.equal(session['packet_length'], '${var.packet_length}');
    const ingress = one('aws_vpc_security_group_ingress_rule', 'nlb_vxlan');
    assert.deepEqual(
      [ingress['ip_protocol'], ingress['from_port'], ingress['cidr_ipv4']],
      ['udp', '${var.vxlan_port}', '${each.value}'],
    );
  });

  it('canonical format: terraform fmt -check (or hclfmt when terraform is absent)', (t) => {
    const terraform = onPath('terraform');
    if (terraform !== null) {
      const r = runTool(terraform, ['fmt', '-check', '-recursive', '-diff'], tfDir);
      assert.equal(r.status, 0, r.out);
      return;
    }
    const h = tool(join(toolsDir, 'bin', 'hclfmt'), 'hclfmt');
    if ('skip' in h) return t.skip(h.skip);
    for (const f of tfFiles) {
      const r = runTool(h.path, ['-require-no-change', join(tfDir, f)]);
      assert.equal(r.status, 0, `${f} is not canonically formatted`);
    }
  });
});

// ---- npm ci ---------------------------------------------------------------------------------------

describe('package-lock.json: npm ci accepts it (deploy/dev/npm-lock.mjs)', () => {
  const lockCheck = (file?: string): { status: number | null; out: string } =>
    runTool(process.execPath, [join(deployDir, 'dev', 'npm-lock.mjs'), '--check', ...(file ? [file] : [])]);
  const withLock = (lock: Obj, fn: (file: string) => void): void => {
    const dir = mkdtempSync(join(tmpdir(), 'apitap-lock-'));
    try {
      const file = join(dir, 'package-lock.json');
      writeFileSync(file, JSON.stringify(lock));
      fn(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("the repository's lock: every optional dependency it names is in it", () => {
    const r = lockCheck();
    assert.equal(r.status, 0, r.out);
  });

  it('an optional edge to a package the lock lacks is rejected; nested and hoisted ones resolve', () => {
    const packages: Obj = {
      '': { name: 'x', optionalDependencies: { a: '1' } },
      'node_modules/a': { version: '1.0.0', optionalDependencies: { b: '1', c: '1' } },
      'node_modules/a/node_modules/b': { version: '1.0.0', optionalDependencies: { c: '1' } },
      'node_modules/c': { version: '1.0.0' },
    };
    withLock({ lockfileVersion: 3, packages }, (file) => assert.equal(lockCheck(file).status, 0));
    const unserved = {
      ...packages,
      'node_modules/c': { version: '1.0.0', optionalDependencies: { '@x/lib-darwin': '2' } },
    };
    withLock({ lockfileVersion: 3, packages: unserved }, (file) => {
      const r = lockCheck(file);
      assert.equal(r.status, 1);
      assert.match(r.out, /node_modules\/c → optional @x\/lib-darwin@2 is not in the lock/);
    });
  });

  it('the test command and the README install with npm ci', () => {
    const run = readFileSync(join(repoRoot, 'test', 'run.sh'), 'utf8');
    assert.match(run, /^\[ -f node_modules\/\.package-lock\.json \] \|\| npm ci\b/m);
    assert.doesNotMatch(run.replace(/^#.*$/gm, ''), /\bnpm (install|i)\b/);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const first = /```(?:sh|bash)?\n([^\n]*)/.exec(readme.slice(readme.indexOf('## Two commands')));
    assert.match(first?.[1] ?? '', /^npm ci\b/, "the README's first command");
  });
});

// ---- README ---------------------------------------------------------------------------------------

describe('deploy/README.md', () => {
  it('has a section per deployment and says where credentials come from', () => {
    const readme = readFileSync(join(deployDir, 'README.md'), 'utf8');
    for (const h of [/^## .*compose/im, /^## .*Kubernetes/im, /^## .*AWS/im]) assert.match(readme, h);
    for (const v of ['APITAP_CLICKHOUSE_PASSWORD', 'APITAP_KAFKA_PASSWORD', 'APITAP_SECRET'])
      assert.ok(readme.includes(v), `README names ${v}`);
  });
});
