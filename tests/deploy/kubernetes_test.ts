/**
 * deploy/kubernetes: each kustomization is built with `kubectl kustomize`, every object it
 * renders is validated against the Kubernetes schemas (kubernetes-models), and the
 * manifests are checked against the app itself: the image and subcommands against the
 * Dockerfile, docker-compose.yml and main.ts, the environment variable names against the
 * ones the code reads, the ports against the Dockerfile and the config, and the probe
 * paths by starting `serve` and `bot` with the rendered ConfigMaps and requesting them.
 */
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { postgresDatabase, TEST_DATABASE_URL, TEST_REDIS_URL } from "../support/databases.ts";
import { runMain } from "../support/services.ts";

const ROOT = new URL("../../", import.meta.url);
const K8S = new URL("deploy/kubernetes/", ROOT);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

const KUBECTL = Deno.env.get("KUBECTL") ?? "kubectl";

function kubectl(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  try {
    const out = new Deno.Command(KUBECTL, { args, stdout: "piped", stderr: "piped" }).outputSync();
    return {
      ok: out.success,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (error) {
    return { ok: false, stdout: "", stderr: String(error) };
  }
}

/**
 * kubectl before 1.21 (Debian 12's kubernetes-client is 1.20) embeds kustomize 2.0.3,
 * which predates directories in `resources:` and the `patches:` field: for it, a copy of
 * the tree is rewritten to the equivalent older fields (`bases:`, `patchesStrategicMerge:`).
 */
function legacyKustomize(): boolean {
  const version = kubectl(["version", "--client", "-o", "json"]);
  if (!version.ok) return false;
  const info = JSON.parse(version.stdout);
  return !info.kustomizeVersion && Number(info.clientVersion?.minor?.replace(/\D/g, "")) < 21;
}

function legacyCopy(): string {
  const dir = Deno.makeTempDirSync({ prefix: "k8s-legacy-" });
  const copy = (from: URL, to: string) => {
    Deno.mkdirSync(to, { recursive: true });
    for (const entry of Deno.readDirSync(from)) {
      const source = new URL(entry.name + (entry.isDirectory ? "/" : ""), from);
      const target = `${to}/${entry.name}`;
      if (entry.isDirectory) copy(source, target);
      else if (entry.name === "kustomization.yaml") {
        const text = Deno.readTextFileSync(source)
          .replace(/^ {2}- (\.\.\/[^\s#]+)\s*$/gm, "BASE:$1")
          .replace(
            /^patches:\n((?: {2}- path: .*\n)+)/m,
            (_all, items: string) => "patchesStrategicMerge:\n" + items.replace(/- path: /g, "- "),
          );
        const bases = [...text.matchAll(/^BASE:(.*)$/gm)].map((match) => `  - ${match[1]}`);
        const body = text.replace(/^BASE:.*\n/gm, "");
        Deno.writeTextFileSync(
          target,
          bases.length ? `${body}\nbases:\n${bases.join("\n")}\n` : body,
        );
      } else Deno.copyFileSync(source, target);
    }
  };
  copy(K8S, dir);
  return dir;
}

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

const KUSTOMIZATIONS = ["base", "overlays/dev", "overlays/prod"] as const;
type Target = typeof KUSTOMIZATIONS[number];

const rendered = new Map<Target, Obj[]>();
let renderRoot: string | undefined;

function render(target: Target): Obj[] {
  const cached = rendered.get(target);
  if (cached) return cached;
  renderRoot ??= legacyKustomize() ? legacyCopy() : new URL(K8S).pathname;
  const result = kubectl(["kustomize", `${renderRoot.replace(/\/$/, "")}/${target}`]);
  assert.ok(
    result.ok,
    `kubectl kustomize ${target} failed (is kubectl installed? .ci/run installs it):\n` +
      result.stderr,
  );
  const objects = parseAllDocuments(result.stdout).map((doc) => doc.toJSON() as Obj).filter(
    Boolean,
  );
  rendered.set(target, objects);
  return objects;
}

const find = (objects: Obj[], kind: string, name: string): Obj => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  assert.ok(found, `${kind} ${name} is rendered`);
  return found;
};
const byKind = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);
const configMap = (objects: Obj[], prefix: string): Obj => {
  const found = byKind(objects, "ConfigMap").filter((o) =>
    o.metadata.name.startsWith(`${prefix}-`) || o.metadata.name === prefix
  );
  assert.equal(found.length, 1, `one ConfigMap ${prefix}(-hash)`);
  return found[0];
};
const containersOf = (deployment: Obj): Obj[] => [
  ...(deployment.spec.template.spec.initContainers ?? []),
  ...deployment.spec.template.spec.containers,
];
const mainContainer = (deployment: Obj, name: string): Obj => {
  const container = deployment.spec.template.spec.containers.find((c: Obj) => c.name === name);
  assert.ok(container, `container ${name} in ${deployment.metadata.name}`);
  return container;
};

const API = "campaign-analytics-api";
const BOT = "campaign-analytics-bot";

// ---------------------------------------------------------------------------------------
// What the app says about itself
// ---------------------------------------------------------------------------------------

const dockerfile = read("Dockerfile");
const compose = parse(read("docker-compose.yml"));

/** Every .ts file of the app (not tests, bench, tools). */
function appSources(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: URL, prefix: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory) walk(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
      else if (entry.name.endsWith(".ts")) {
        files.set(`${prefix}${entry.name}`, Deno.readTextFileSync(new URL(entry.name, dir)));
      }
    }
  };
  files.set("main.ts", read("main.ts"));
  for (const dir of ["lib", "runtime", "ingest", "handlers"]) {
    walk(new URL(`${dir}/`, ROOT), `${dir}/`);
  }
  return files;
}

/**
 * Names of environment variables the code reads: keys of the zod schemas that parse the
 * environment (`NAME: z...`), `env.NAME`, `env["NAME"]` and `Deno.env.get("NAME")`; and
 * every variable docs/configuration.md documents, where that file exists.
 */
function variablesTheAppReads(): Set<string> {
  const names = new Set<string>();
  const NAME = "[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PORT";
  const patterns = [
    new RegExp(`^\\s*(${NAME})\\??\\s*:`, "gm"),
    new RegExp(`\\benv\\??\\.(${NAME})\\b`, "g"),
    new RegExp(`\\benv\\[["'](${NAME})["']\\]`, "g"),
    new RegExp(`\\.get\\(["'](${NAME})["']\\)`, "g"),
  ];
  for (const text of appSources().values()) {
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) names.add(match[1]);
    }
  }
  try {
    const docs = read("docs/configuration.md");
    for (const match of docs.matchAll(new RegExp(`\`(${NAME})\``, "g"))) names.add(match[1]);
  } catch {
    // not written yet
  }
  return names;
}

/**
 * Secret keys the manifests offer before the code reads them: METRICS_TOKEN (the token
 * Prometheus sends to GET /metrics) comes with the /metrics hardening. Once the code
 * reads it this exception no longer matters.
 */
const ANNOUNCED_VARIABLES = new Set(["METRICS_TOKEN"]);

function envFile(path: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of read(path).split("\n")) {
    if (!line.trim() || line.trimStart().startsWith("#")) continue;
    const separator = line.indexOf("=");
    assert.ok(separator > 0, `${path}: "${line}" is NAME=value`);
    entries.set(line.slice(0, separator), line.slice(separator + 1));
  }
  return entries;
}

const SECRET_EXAMPLES = {
  [API]: "deploy/kubernetes/base/api.secrets.env.example",
  [BOT]: "deploy/kubernetes/base/bot.secrets.env.example",
} as const;

/** The Dockerfile's `ENV` defaults (PORT, BOT_PORT, ...). */
function dockerfileEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  const block = /^ENV\s+((?:.*\\\n)*.*)$/gm;
  for (const match of dockerfile.matchAll(block)) {
    for (const pair of match[1].replace(/\\\n/g, " ").matchAll(/([A-Z_]+)=(\S+)/g)) {
      env[pair[1]] = pair[2];
    }
  }
  return env;
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

Deno.test("kubectl kustomize builds the base and both overlays", () => {
  for (const target of KUSTOMIZATIONS) {
    const objects = render(target);
    const kinds = new Set(objects.map((o) => o.kind));
    for (
      const kind of [
        "ConfigMap",
        "Service",
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "NetworkPolicy",
      ]
    ) {
      assert.ok(kinds.has(kind), `${target} renders a ${kind}`);
    }
    if (target !== "base") {
      const namespace = byKind(objects, "Namespace");
      assert.equal(namespace.length, 1, `${target} creates its namespace`);
      for (const object of objects.filter((o) => o.kind !== "Namespace")) {
        assert.equal(
          object.metadata.namespace,
          namespace[0].metadata.name,
          `${target}: ${object.kind} ${object.metadata.name} is in the overlay's namespace`,
        );
      }
      assert.equal(
        namespace[0].metadata.labels["pod-security.kubernetes.io/enforce"],
        "restricted",
      );
    }
  }
});

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/Ingress": Ingress,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

function validate(object: Obj, where: string) {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  assert.ok(Model, `${where}: no schema for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(object as never).validate();
  } catch (error) {
    assert.fail(`${where}: ${object.kind} ${object.metadata?.name} is invalid: ${error}`);
  }
  const unknown = unknownFields(object);
  assert.deepEqual(
    unknown,
    [],
    `${where}: ${object.kind} ${object.metadata?.name} has unknown fields`,
  );
}

/**
 * The schemas' validators accept fields they do not know (as the API server does unless
 * asked for strict field validation), so a misspelt field would pass: the field names are
 * also checked against the models' type declarations, which list every field of every type.
 */
let fieldTypes: Map<string, Map<string, string>> | undefined;

function loadFieldTypes(): Map<string, Map<string, string>> {
  const types = new Map<string, Map<string, string>>();
  const packages = new URL("node_modules/.deno/", ROOT);
  const roots: URL[] = [];
  for (const entry of Deno.readDirSync(packages)) {
    const match = /^(kubernetes-models|@kubernetes-models\+apimachinery)@/.exec(entry.name);
    if (match) {
      roots.push(new URL(`${entry.name}/node_modules/${match[1].replace("+", "/")}/`, packages));
    }
  }
  assert.ok(roots.length >= 2, "kubernetes-models and its apimachinery types are installed");
  const walk = (dir: URL) => {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory) walk(new URL(`${entry.name}/`, dir));
      else if (entry.name.endsWith(".d.ts")) {
        parseDeclarations(Deno.readTextFileSync(new URL(entry.name, dir)));
      }
    }
  };
  const parseDeclarations = (text: string) => {
    const local = new Map<string, Map<string, string>>();
    for (
      const block of text.matchAll(/export interface (\w+)(?: extends ([^{]+))? \{([\s\S]*?)\n\}/g)
    ) {
      const fields = new Map<string, string>();
      if (block[2]?.includes("TypeMeta")) {
        fields.set("apiVersion", "string");
        fields.set("kind", "string");
      }
      // Maps are declared over several lines: `{\n [key: string]: T;\n }` -> one line.
      const body = block[3].replace(
        /\{\s*\[key: string\]: ([^;]+);\s*\}/g,
        "{ [key: string]: $1 }",
      );
      for (const field of body.matchAll(/^\s*"([^"]+)"\??: (.+);$/gm)) {
        fields.set(field[1], field[2]);
      }
      local.set(block[1], fields);
    }
    for (const aliases of text.matchAll(/export type \{([^}]*)\}/g)) {
      for (const alias of aliases[1].matchAll(/(\w+) as (\w+)/g)) {
        const fields = local.get(alias[1]);
        if (fields) types.set(alias[2], fields);
      }
    }
  };
  for (const root of roots) walk(root);
  return types;
}

const TYPE_OF_KIND: Record<string, string> = {
  "v1/Namespace": "IIoK8sApiCoreV1Namespace",
  "v1/ConfigMap": "IIoK8sApiCoreV1ConfigMap",
  "v1/Secret": "IIoK8sApiCoreV1Secret",
  "v1/Service": "IIoK8sApiCoreV1Service",
  "apps/v1/Deployment": "IIoK8sApiAppsV1Deployment",
  "autoscaling/v2/HorizontalPodAutoscaler": "IIoK8sApiAutoscalingV2HorizontalPodAutoscaler",
  "policy/v1/PodDisruptionBudget": "IIoK8sApiPolicyV1PodDisruptionBudget",
  "networking.k8s.io/v1/Ingress": "IIoK8sApiNetworkingV1Ingress",
  "networking.k8s.io/v1/NetworkPolicy": "IIoK8sApiNetworkingV1NetworkPolicy",
};

function unknownFields(object: Obj): string[] {
  fieldTypes ??= loadFieldTypes();
  const types = fieldTypes;
  const root = TYPE_OF_KIND[`${object.apiVersion}/${object.kind}`];
  assert.ok(types.has(root), `the type declarations define ${root}`);
  const found: string[] = [];
  const check = (value: unknown, type: string, path: string) => {
    const array = /^Array<(.+)>$/.exec(type);
    if (array) {
      if (Array.isArray(value)) value.forEach((item, i) => check(item, array[1], `${path}[${i}]`));
      return;
    }
    const map = /^\{ \[key: string\]: (.+) \}$/.exec(type);
    if (map) {
      for (const [key, item] of Object.entries((value ?? {}) as Obj)) {
        check(item, map[1], `${path}.${key}`);
      }
      return;
    }
    const fields = types.get(type);
    if (!fields || typeof value !== "object" || value === null) return;
    for (const [key, item] of Object.entries(value)) {
      const fieldType = fields.get(key);
      if (fieldType === undefined) found.push(`${path}.${key}`);
      else check(item, fieldType, `${path}.${key}`);
    }
  };
  check(object, root, object.kind);
  return found;
}

Deno.test("every rendered object validates against the Kubernetes schemas", () => {
  for (const target of KUSTOMIZATIONS) {
    for (const object of render(target)) validate(object, target);
  }
  // The Secrets the README has you create from the examples are valid objects too.
  for (const [name, path] of Object.entries(SECRET_EXAMPLES)) {
    validate({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name },
      type: "Opaque",
      stringData: Object.fromEntries(envFile(path)),
    }, path);
  }
  // The validation is real: a broken Deployment is refused.
  const deployment = structuredClone(find(render("overlays/prod"), "Deployment", API));
  deployment.spec.template.spec.containers[0].ports[0].containerPort = "8080";
  assert.throws(() => new Deployment(deployment as never).validate());
  const misspelt = structuredClone(find(render("overlays/prod"), "Deployment", API));
  misspelt.spec.template.spec.containers[0].readinessProbee = { httpGet: { path: "/readyz" } };
  assert.deepEqual(unknownFields(misspelt), [
    "Deployment.spec.template.spec.containers[0].readinessProbee",
  ]);
});

Deno.test("the image, the subcommands and the ports are the Dockerfile's and main.ts's", () => {
  // The image docker-compose.yml builds from the Dockerfile.
  const composeImage = String(compose["x-image"].image).split(":")[0];
  const kustomization = parse(Deno.readTextFileSync(new URL("base/kustomization.yaml", K8S)));
  assert.deepEqual(kustomization.images.map((i: Obj) => i.name), [composeImage]);
  // The Dockerfile's entry point ends with main.ts, so `args` is the subcommand.
  assert.match(dockerfile, /^ENTRYPOINT \[[^\]]*"main\.ts"\]\s*$/m);
  const commands = /const COMMANDS = \[([^\]]*)\]/.exec(read("main.ts"))?.[1];
  assert.ok(commands, "main.ts lists its subcommands");
  const subcommands = [...commands.matchAll(/"(\w+)"/g)].map((m) => m[1]);
  const env = dockerfileEnv();
  const exposed = (/^EXPOSE (.*)$/m.exec(dockerfile)?.[1] ?? "").split(/\s+/).map(Number);

  for (const target of KUSTOMIZATIONS) {
    const objects = render(target);
    const images = new Set<string>();
    const expectations = [
      { deployment: API, container: "api", args: ["serve"], portVariable: "PORT" },
      { deployment: BOT, container: "bot", args: ["bot"], portVariable: "BOT_PORT" },
    ];
    for (const { deployment: name, container: containerName, args, portVariable } of expectations) {
      const deployment = find(objects, "Deployment", name);
      for (const container of containersOf(deployment)) {
        images.add(container.image);
        assert.equal(container.command, undefined, `${name}/${container.name} keeps ENTRYPOINT`);
        assert.ok(
          subcommands.includes(container.args?.[0]),
          `${name}/${container.name}: "${container.args?.[0]}" is a main.ts subcommand`,
        );
      }
      const container = mainContainer(deployment, containerName);
      assert.deepEqual(container.args, args);
      // The port the app listens on is the ConfigMap's variable, the Dockerfile's default,
      // an EXPOSEd port, and the container port the probes and the Service use.
      const config = configMap(objects, name).data;
      const port = Number(config[portVariable]);
      assert.equal(port, Number(env[portVariable]), `${portVariable} as in the Dockerfile`);
      assert.ok(exposed.includes(port), `the Dockerfile EXPOSEs ${port}`);
      assert.deepEqual(container.ports, [{ name: "http", containerPort: port, protocol: "TCP" }]);
      const service = find(objects, "Service", name);
      assert.equal(service.spec.ports[0].targetPort, "http");
    }
    const migrate = find(objects, "Deployment", API).spec.template.spec.initContainers[0];
    assert.deepEqual(migrate.args, ["migrate"], "migrations run before the API container");
    assert.equal(images.size, 1, `${target}: one image for every role (${[...images]})`);
    const [image] = images;
    const repository = image.replace(/[:@][^/]*$/, "");
    assert.equal(repository.split("/").at(-1), composeImage, `${target}: ${image}`);
    if (target !== "base") {
      assert.match(image, /\//, `${target} pulls from a registry`);
      assert.doesNotMatch(image, /:latest$|:local$/, `${target} pins a tag`);
    }
  }
});

Deno.test("every variable in the ConfigMaps and Secret examples is one the app reads", () => {
  const known = variablesTheAppReads();
  // The extraction works: these are read today.
  for (const name of ["PORT", "DATABASE_URL", "REDIS_URL", "API_KEY", "BOT_PORT"]) {
    assert.ok(known.has(name), `the scan finds ${name}`);
  }
  const SECRET_LIKE = /SECRET|TOKEN|PASSWORD|API_KEY|DATABASE_URL|REDIS_URL/;
  for (const target of KUSTOMIZATIONS) {
    for (const map of byKind(render(target), "ConfigMap")) {
      for (const [name, value] of Object.entries(map.data ?? {})) {
        assert.ok(known.has(name), `${target}: ConfigMap key ${name} is read by the app`);
        assert.doesNotMatch(name, SECRET_LIKE, `${target}: ${name} belongs in a Secret`);
        assert.notEqual(String(value).trim(), "", `${target}: ${name} is not blank`);
      }
    }
    // Secrets come from the cluster, never from the kustomization.
    assert.deepEqual(byKind(render(target), "Secret"), [], `${target} renders no Secret`);
  }
  for (const [name, path] of Object.entries(SECRET_EXAMPLES)) {
    const entries = envFile(path);
    for (const key of entries.keys()) {
      assert.ok(
        known.has(key) || ANNOUNCED_VARIABLES.has(key),
        `${path}: ${key} is read by the app`,
      );
    }
    for (const [key, value] of entries) {
      assert.ok(
        value === "" || /CHANGE-ME/.test(value),
        `${path}: ${key} holds no real secret (blank or CHANGE-ME)`,
      );
    }
    // The filled-in copy is git-ignored.
    const filled = path.replace(/\.example$/, "");
    const ignored = new Deno.Command("git", {
      args: ["check-ignore", "-q", filled],
      cwd: new URL(ROOT).pathname,
    }).outputSync();
    assert.ok(ignored.success, `${filled} is git-ignored`);
    // Each Deployment reads its own Secret of that name.
    const deployment = find(render("overlays/prod"), "Deployment", name);
    for (const container of containersOf(deployment)) {
      assert.ok(
        container.envFrom.some((source: Obj) => source.secretRef?.name === name),
        `${name}/${container.name} reads Secret ${name}`,
      );
    }
  }
  const api = envFile(SECRET_EXAMPLES[API]);
  for (const key of ["DATABASE_URL", "REDIS_URL", "API_KEY", "JWT_SECRET", "METRICS_TOKEN"]) {
    assert.ok(api.has(key), `the API's Secret example offers ${key}`);
  }
  const botKeys = [...envFile(SECRET_EXAMPLES[BOT]).keys()];
  assert.ok(!botKeys.includes("DATABASE_URL"), "the bot gets no database credentials");
});

Deno.test("pods run non-root, read-only, without privileges, with requests and limits", () => {
  const uid = Number(/uid (\d+)/.exec(dockerfile)?.[1]);
  const denoDir = /DENO_DIR=(\S+)/.exec(dockerfile)?.[1];
  assert.ok(uid && denoDir, "the Dockerfile names the app user's uid and DENO_DIR");
  const drain = drainAllowanceSeconds();
  const bytes = (quantity: string) => {
    const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
    const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
    assert.ok(match, `memory quantity ${quantity}`);
    return Number(match[1]) * (units[match[2]] ?? 1);
  };
  const cores = (quantity: string) =>
    quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);

  for (const target of KUSTOMIZATIONS) {
    for (const deployment of byKind(render(target), "Deployment")) {
      const where = `${target}: ${deployment.metadata.name}`;
      const pod = deployment.spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true, where);
      assert.equal(pod.securityContext.runAsUser, uid, `${where} runs as the image's user`);
      assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault", where);
      assert.equal(pod.automountServiceAccountToken, false, where);
      const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
      for (const container of containersOf(deployment)) {
        const at = `${where}/${container.name}`;
        const security = container.securityContext;
        assert.equal(security.readOnlyRootFilesystem, true, at);
        assert.equal(security.allowPrivilegeEscalation, false, at);
        assert.deepEqual(security.capabilities.drop, ["ALL"], at);
        assert.equal(security.privileged, undefined, at);
        const { requests, limits } = container.resources;
        assert.ok(cores(requests.cpu) > 0 && cores(limits.cpu) >= cores(requests.cpu), at);
        assert.ok(bytes(requests.memory) > 0 && bytes(limits.memory) >= bytes(requests.memory), at);
        // /tmp is the one writable path; DENO_DIR and the code stay the image's, read-only.
        const mounts = container.volumeMounts ?? [];
        const tmp = mounts.find((m: Obj) => m.mountPath === "/tmp");
        assert.ok(tmp && volumes.get(tmp.name)?.emptyDir, `${at}: /tmp is an emptyDir`);
        for (const mount of mounts) {
          assert.ok(
            ![denoDir, "/app"].some((path) => mount.mountPath.startsWith(path)),
            `${at}: nothing is mounted over ${mount.mountPath}`,
          );
        }
      }
      // Graceful stop: the grace period outlasts preStop plus the drain allowance.
      for (const container of pod.containers) {
        const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
        assert.ok(
          pod.terminationGracePeriodSeconds > preStop + drain,
          `${where}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > ` +
            `${preStop} s preStop + ${drain} s drain`,
        );
      }
    }
  }
  // The benchmark's figures are the production numbers (comments say where each is from).
  const api = mainContainer(find(render("overlays/prod"), "Deployment", API), "api");
  const peak = /peak RSS ([\d.]+) MiB \(VmHWM\)/.exec(
    read("bench/results/2026-11-25T14-21-19-full-postgres.json"),
  );
  assert.ok(peak, "the benchmark's record states the server's peak RSS");
  assert.ok(bytes(api.resources.requests.memory) >= Number(peak[1]) * 2 ** 20);
  assert.ok(bytes(api.resources.limits.memory) >= 1.5 * Number(peak[1]) * 2 ** 20);
  const dev = mainContainer(find(render("overlays/dev"), "Deployment", API), "api");
  assert.ok(bytes(dev.resources.requests.memory) < bytes(api.resources.requests.memory));
});

/**
 * Seconds a replica may spend finishing in-flight requests after SIGTERM: a deadline in
 * runtime/ when the server has one, otherwise the 30 s docs/operations.md grants
 * (Deno.serve's shutdown waits for in-flight requests without a deadline of its own).
 */
function drainAllowanceSeconds(): number {
  for (const [path, text] of appSources()) {
    if (!path.startsWith("runtime/")) continue;
    const match = /(?:DRAIN|SHUTDOWN|GRACE)\w*_MS\s*=\s*([\d_]+)/.exec(text);
    if (match) return Number(match[1].replace(/_/g, "")) / 1000;
  }
  const documented = /terminationGracePeriodSeconds: (\d+)/.exec(read("docs/operations.md"));
  return Number(documented?.[1] ?? 30);
}

Deno.test("replicas, autoscaling, disruption budgets, Services and Ingress fit together", () => {
  for (const target of KUSTOMIZATIONS) {
    const objects = render(target);
    const deployments = byKind(objects, "Deployment");
    const podLabels = (name: string) =>
      find(objects, "Deployment", name).spec.template.metadata.labels;
    const selects = (selector: Obj, labels: Obj) =>
      Object.entries(selector).every(([key, value]) => labels[key] === value);
    for (const deployment of deployments) {
      assert.ok(
        selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels),
      );
      // ConfigMaps and Secrets referenced: ConfigMaps are rendered (with their hash).
      for (const container of containersOf(deployment)) {
        for (const source of container.envFrom) {
          if (source.configMapRef) find(objects, "ConfigMap", source.configMapRef.name);
        }
      }
    }
    for (const name of [API, BOT]) {
      const service = find(objects, "Service", name);
      assert.ok(selects(service.spec.selector, podLabels(name)), `${target}: Service ${name}`);
      const pdb = find(objects, "PodDisruptionBudget", name);
      assert.ok(selects(pdb.spec.selector.matchLabels, podLabels(name)), `${target}: PDB ${name}`);
      const main = find(objects, "Deployment", name).spec.template.spec.containers[0];
      assert.ok(main.ports.some((p: Obj) => p.name === service.spec.ports[0].targetPort));
    }
    const hpa = find(objects, "HorizontalPodAutoscaler", API);
    assert.equal(hpa.spec.scaleTargetRef.kind, "Deployment");
    assert.equal(hpa.spec.scaleTargetRef.name, API);
    assert.equal(hpa.spec.metrics[0].resource.name, "cpu");
    assert.ok(hpa.spec.maxReplicas > hpa.spec.minReplicas);
    const replicas = find(objects, "Deployment", API).spec.replicas;
    assert.equal(replicas, hpa.spec.minReplicas, `${target}: the Deployment starts at the minimum`);
    if (target === "overlays/prod") assert.ok(hpa.spec.minReplicas >= 3, "prod keeps 3+");
    if (target === "overlays/dev") {
      assert.equal(replicas, 1);
      assert.equal(find(objects, "Deployment", BOT).spec.replicas, 1);
    }

    const ingress = find(objects, "Ingress", "campaign-analytics");
    const services = new Set(byKind(objects, "Service").map((s) => s.metadata.name));
    const hosts = ingress.spec.rules.map((rule: Obj) => rule.host);
    assert.deepEqual(ingress.spec.tls[0].hosts, hosts, `${target}: TLS covers every host`);
    assert.ok(ingress.spec.tls[0].secretName, `${target}: a TLS Secret is named`);
    for (const rule of ingress.spec.rules) {
      for (const path of rule.http.paths) {
        assert.ok(services.has(path.backend.service.name), `${target}: ${rule.host} backend`);
      }
    }
    // Scheduled ingestion stays in the API process (deploy/kubernetes/README.md says why).
    assert.equal(byKind(objects, "CronJob").length, 0);
    assert.ok(configMap(objects, API).data.INGEST_SCHEDULE);
    // The bot calls the API through its Service.
    const apiUrl = new URL(configMap(objects, BOT).data.ANALYTICS_API_URL);
    assert.equal(apiUrl.hostname, API);
    assert.equal(
      Number(apiUrl.port || 80),
      find(objects, "Service", API).spec.ports[0].port,
    );
  }
});

Deno.test("network policies: only the ingress (and the bot, Prometheus) reach the API", () => {
  const objects = render("overlays/prod");
  const policy = find(objects, "NetworkPolicy", API);
  assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
  const apiLabels = find(objects, "Deployment", API).spec.template.metadata.labels;
  assert.ok(
    Object.entries(policy.spec.podSelector.matchLabels).every(([k, v]) => apiLabels[k] === v),
  );
  const sources = policy.spec.ingress.flatMap((rule: Obj) => rule.from);
  const namespaces = sources.map((s: Obj) =>
    s.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"]
  ).filter(Boolean);
  assert.deepEqual(namespaces.sort(), ["ingress-nginx", "monitoring"]);
  for (const source of sources) {
    assert.ok(source.namespaceSelector || source.podSelector, "no ipBlock reaches the API");
    if (!source.namespaceSelector) {
      assert.equal(source.podSelector.matchLabels["app.kubernetes.io/component"], "bot");
    }
  }
  const egressPorts = policy.spec.egress.flatMap((rule: Obj) =>
    rule.ports.map((p: Obj) => `${p.protocol}/${p.port}`)
  );
  assert.deepEqual(
    [...new Set(egressPorts)].sort(),
    ["TCP/443", "TCP/53", "TCP/5432", "TCP/6379", "UDP/53"],
  );
  const internet = policy.spec.egress.find((rule: Obj) => rule.to[0].ipBlock);
  assert.equal(internet.to[0].ipBlock.cidr, "0.0.0.0/0");
  assert.ok(internet.to[0].ipBlock.except.includes("10.0.0.0/8"), "not the private ranges");
  assert.deepEqual(internet.ports, [{ port: 443, protocol: "TCP" }]);
  const bot = find(objects, "NetworkPolicy", BOT);
  const toApi = bot.spec.egress.find((rule: Obj) =>
    rule.to[0].podSelector && !rule.to[0].namespaceSelector
  );
  assert.equal(toApi.to[0].podSelector.matchLabels["app.kubernetes.io/component"], "api");
  const apiPort = mainContainer(find(objects, "Deployment", API), "api").ports[0].containerPort;
  assert.deepEqual(toApi.ports, [{ port: apiPort, protocol: "TCP" }]);
});

// ---------------------------------------------------------------------------------------
// The app answers the probes the manifests send
// ---------------------------------------------------------------------------------------

interface Running {
  port: number;
  output(): string;
  stop(): Promise<Deno.CommandStatus>;
}

async function start(command: string, env: Record<string, string>): Promise<Running> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-cron", new URL("main.ts", ROOT).pathname, command],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk);
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const deadline = Date.now() + 90_000;
  let port = 0;
  while (!port) {
    const match = /"msg":"(?:bot )?listening","port":(\d+)/.exec(text);
    if (match) port = Number(match[1]);
    else if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await pumping;
      throw new Error(`${command} did not start:\n${text}`);
    } else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    output: () => text,
    async stop() {
      child.kill("SIGTERM");
      const status = await child.status;
      await pumping;
      return status;
    },
  };
}

/** `httpGet` probes of a container, as [kind, path]. */
function probes(container: Obj): [string, string][] {
  return ["startupProbe", "readinessProbe", "livenessProbe"].map((kind) => {
    const probe = container[kind]?.httpGet;
    assert.ok(probe, `${container.name} has an HTTP ${kind}`);
    assert.equal(probe.port, "http");
    return [kind, probe.path];
  });
}

async function status(port: number, path: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  await response.body?.cancel();
  return response.status;
}

Deno.test({
  name: "serve and bot, started with the dev overlay's settings, answer every probe with 200",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const objects = render("overlays/dev");
    const apiDeployment = find(objects, "Deployment", API);
    const botDeployment = find(objects, "Deployment", BOT);
    const apiConfig = configMap(objects, API).data as Record<string, string>;
    const botConfig = configMap(objects, BOT).data as Record<string, string>;
    const base = { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/tmp" };
    const denoDir = Deno.env.get("DENO_DIR");
    if (denoDir) Object.assign(base, { DENO_DIR: denoDir });

    // The database and cache the Secret would name: the test server's, or embedded.
    const database = TEST_DATABASE_URL ? await postgresDatabase() : undefined;
    const dataDir = await Deno.makeTempDir({ prefix: "k8s-serve-" });
    const secrets: Record<string, string> = {
      API_KEY: "default:k8s-probe-test-key",
      ...(database?.url ? { DATABASE_URL: database.url } : {}),
      ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {}),
      // Keys of its own in the shared test Redis.
      CACHE_KEY_PREFIX: `k8s-test-${crypto.randomUUID().slice(0, 8)}`,
    };
    try {
      // The init container's command against the same database.
      const migrate = await runMain(mainContainerArgs(apiDeployment, "migrate"), {
        ...base,
        ...apiConfig,
        ...secrets,
        DATA_DIR: dataDir,
      }, { clearEnv: true });
      assert.equal(migrate.code, 0, `migrate:\n${migrate.stdout}${migrate.stderr}`);

      // Port 0 instead of 8080/8081 (the port itself is checked against the Dockerfile
      // above); no backfill, to start quickly.
      const api = await start(mainContainer(apiDeployment, "api").args[0], {
        ...base,
        ...apiConfig,
        ...secrets,
        PORT: "0",
        DATA_DIR: dataDir,
        FAKE_BACKFILL_DAYS: "0",
      });
      const bot = await start(mainContainer(botDeployment, "bot").args[0], {
        ...base,
        ...botConfig,
        BOT_PORT: "0",
      });
      try {
        for (const [kind, path] of probes(mainContainer(apiDeployment, "api"))) {
          assert.equal(await status(api.port, path), 200, `api ${kind} ${path}`);
        }
        for (const [kind, path] of probes(mainContainer(botDeployment, "bot"))) {
          assert.equal(await status(bot.port, path), 200, `bot ${kind} ${path}`);
        }
        // The check can fail: a path the bot does not serve is a 404 (why its readiness
        // probe is /healthz).
        assert.equal(await status(bot.port, "/readyz"), 404);
      } finally {
        const apiStatus = await api.stop();
        const botStatus = await bot.stop();
        assert.equal(apiStatus.code, 0, `serve stops cleanly on SIGTERM:\n${api.output()}`);
        assert.equal(botStatus.code, 0, `bot stops cleanly on SIGTERM:\n${bot.output()}`);
      }
    } finally {
      await database?.dispose();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

function mainContainerArgs(deployment: Obj, initName: string): string[] {
  const init = deployment.spec.template.spec.initContainers.find((c: Obj) => c.name === initName);
  assert.ok(init, `init container ${initName}`);
  return init.args;
}
