"""deploy/kubernetes, checked without a cluster: rendered, validated, and held to the repo.

`render` does what `kubectl apply -k deploy/kubernetes` sends, for the few kustomize fields the
kustomization uses (and refuses any other, so it cannot silently render less than kustomize
would): the resource files, the namespace set on every namespaced object, the Secret made from
secrets.env and the ConfigMap made from nginx/'s files, names unsuffixed. secrets.env is the
one the README's script writes. Every object is validated, strictly (no unknown field), against
the Kubernetes API's own schemas as kubernetes-validate ships them, for the oldest and newest
versions the README names (and the validator is shown to reject broken objects). Then the
manifests are held to what the app, its images and the compose file say: probes on the ports
the image serves, every `IMAGES_*` variable a setting and every secret one from the Secret, the
whole environment loading as valid settings, the worker and migration commands, HPA and PDB on
the web pods, NGINX's files and purge URL, and pods that run as the restricted profile asks.
"""

from __future__ import annotations

import base64
import copy
import math
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from images_server.cli import main as cli
from images_server.settings import SECRET_FIELDS, Settings, load_settings
from tests.deploy.dockerfile import parse

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy/kubernetes"
README = ROOT / "README.md"
VERSIONS = ("1.25", "1.37")  # the README's "1.25 or newer", and the newest schemas shipped
KUSTOMIZE_FIELDS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "generatorOptions",
    "secretGenerator",
    "configMapGenerator",
}
CLUSTER_SCOPED = {"Namespace"}
IMAGE = "registry.example.com/images-server"
NGINX_IMAGE = "registry.example.com/images-server-nginx"
PASSWORDS = {"POSTGRES_PASSWORD": "a-test-postgres-password", "MINIO_APP_PASSWORD": "a-test-pw"}
Object = dict[str, Any]


def _env_file(path: Path) -> dict[str, str]:
    """kustomize's `envs` file: KEY=VALUE lines, `#` comments and blank lines skipped."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        key, separator, value = line.partition("=")
        assert separator, line
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), line
        values[key] = value
    return values


def render(base: Path) -> list[Object]:
    """The objects `kubectl apply -k base` would send."""
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    assert set(kustomization) <= KUSTOMIZE_FIELDS, "a kustomize field render() does not do"
    assert kustomization["generatorOptions"] == {"disableNameSuffixHash": True}
    objects: list[Object] = []
    for resource in kustomization["resources"]:
        objects += [o for o in yaml.safe_load_all((base / resource).read_text()) if o]
    for generator in kustomization["secretGenerator"]:
        assert set(generator) == {"name", "envs"}
        data: dict[str, str] = {}
        for env in generator["envs"]:
            data |= _env_file(base / env)
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": generator["name"]},
                "type": "Opaque",
                "data": encoded,
            }
        )
    for generator in kustomization["configMapGenerator"]:
        assert set(generator) == {"name", "files"}
        files = {Path(name).name: (base / name).read_text() for name in generator["files"]}
        objects.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}}
            | {"data": files}
        )
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = kustomization["namespace"]
    return objects


def _readme_section() -> str:
    text = README.read_text()
    return text.split("\n### Kubernetes\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def _secrets_script() -> str:
    """The README's block that writes secrets.env."""
    blocks = re.findall(r"```sh\n(.*?)```", _readme_section(), re.DOTALL)
    (script,) = [block for block in blocks if "cat > secrets.env" in block]
    return str(script)


def _write_secrets(directory: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-eu", "-c", _secrets_script()],
        cwd=directory,
        env={"PATH": "/usr/bin:/bin"} | env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of deploy/kubernetes with the secrets.env the README's script writes."""
    copied = tmp_path_factory.mktemp("kubernetes") / "kubernetes"
    kept = [path for path in BASE.rglob("*") if path.name != "secrets.env"]
    for path in kept:
        target = copied / path.relative_to(BASE)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    written = _write_secrets(copied, PASSWORDS)
    assert written.returncode == 0, written.stderr
    return copied


@pytest.fixture(scope="module")
def objects(base: Path) -> list[Object]:
    return render(base)


def find(objects: list[Object], kind: str, name: str) -> Object:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def pod_spec(workload: Object) -> Object:
    spec: Object = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Object) -> Iterator[Object]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def deployments(objects: list[Object]) -> list[Object]:
    return [o for o in objects if o["kind"] == "Deployment"]


def test_every_object_is_valid_against_the_kubernetes_api_schemas(objects: list[Object]) -> None:
    kinds = {o["kind"] for o in objects}
    assert kinds == {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }
    for obj in objects:
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                name = f"{obj['kind']}/{obj['metadata']['name']}"
                pytest.fail(f"{name} on Kubernetes {version}: {error.message} at {error.path}")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("readinessProbe", "httpGet", "paht"), "/readyz", "'paht' was unexpected"),
        (("ports", 0, "containerPort"), "8000", "is not of type 'integer'"),
        (("securityContext", "capabilities", "drop"), "ALL", "is not of type 'array'"),
    ],
)
def test_the_schemas_reject_a_broken_object(
    objects: list[Object], path: tuple[str | int, ...], value: str, message: str
) -> None:
    app = copy.deepcopy(find(objects, "Deployment", "app"))
    kubernetes_validate.validate(app, VERSIONS[-1], strict=True)
    target: Any = pod_spec(app)["containers"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(kubernetes_validate.ValidationError, match=re.escape(message)):
        kubernetes_validate.validate(app, VERSIONS[-1], strict=True)


def test_render_refuses_what_it_does_not_do(base: Path, tmp_path: Path) -> None:
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization | {"images": []}))
    with pytest.raises(AssertionError, match="a kustomize field"):
        render(tmp_path)


def _port(container: Object, port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


def test_the_web_pods_probe_health_and_readiness_on_the_images_port(
    objects: list[Object],
) -> None:
    image_env = parse(ROOT / "Dockerfile")[-1].env()
    (app,) = pod_spec(find(objects, "Deployment", "app"))["containers"]
    readiness, liveness = app["readinessProbe"]["httpGet"], app["livenessProbe"]["httpGet"]
    assert readiness["path"] == "/readyz"
    assert liveness["path"] == "/healthz"
    assert app["startupProbe"]["httpGet"]["path"] == "/healthz"  # never a backing service
    probes = (readiness, liveness, app["startupProbe"]["httpGet"])
    assert {_port(app, probe["port"]) for probe in probes} == {int(image_env["IMAGES_PORT"])}
    # reachable from the kubelet and the Service
    assert image_env["IMAGES_HOST"] == "0.0.0.0"  # noqa: S104
    startup = app["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30  # the image's start period


def test_a_stopping_web_pod_finishes_its_renders(objects: list[Object]) -> None:
    app = find(objects, "Deployment", "app")
    (serve,) = pod_spec(app)["containers"]
    pause = serve["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    fields = Settings.model_fields
    # gunicorn_conf's graceful_timeout: a render after an /external fetch, plus 5 s
    deadlines = fields["render_timeout"].default + fields["external_timeout"].default
    graceful = math.ceil(deadlines) + 5
    assert pod_spec(app)["terminationGracePeriodSeconds"] >= int(pause[1]) + graceful


def _settings_env(objects: list[Object], container: Object) -> dict[str, str]:
    """A container's environment as the kubelet builds it (ConfigMaps, then its own `env`)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= find(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            secret = find(objects, "Secret", ref["name"])
            env[variable["name"]] = base64.b64decode(secret["data"][ref["key"]]).decode()
    return env


def _app_containers(objects: list[Object]) -> list[Object]:
    return [
        c
        for workload in deployments(objects)
        for c in containers(workload)
        if c["image"].startswith(IMAGE + ":")
    ]


def test_every_images_variable_is_a_setting(objects: list[Object]) -> None:
    settings = {f"IMAGES_{name.upper()}" for name in Settings.model_fields}
    config = find(objects, "ConfigMap", "images-server-config")["data"]
    secret = find(objects, "Secret", "images-server-secrets")["data"]
    named = set(config) | set(secret)
    for container in _app_containers(objects):
        named |= {variable["name"] for variable in container.get("env", [])}
    images = {name for name in named if name.startswith("IMAGES_")}
    assert len(images) >= 15
    assert images <= settings, images - settings
    assert named - images == {"AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def test_secrets_come_from_the_secret_never_the_configmap(objects: list[Object]) -> None:
    secret_variables = {f"IMAGES_{name.upper()}" for name in SECRET_FIELDS}
    secret_variables |= {"AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"}
    configmaps = [o for o in objects if o["kind"] == "ConfigMap"]
    for configmap in configmaps:
        assert not set(configmap["data"]) & secret_variables
        text = yaml.safe_dump(configmap["data"])
        assert not re.search(r"://[^/\s]*:[^/\s]*@", text), "a password in a URL"
    secret = find(objects, "Secret", "images-server-secrets")
    for container in _app_containers(objects):
        env = {variable["name"]: variable for variable in container["env"]}
        # every key of the Secret, each one required (no `optional`: a missing key stops the pod)
        assert set(env) == set(secret["data"])
        for name, variable in env.items():
            assert variable["valueFrom"] == {
                "secretKeyRef": {"name": "images-server-secrets", "key": name}
            }
        assert set(env) >= {"IMAGES_SECRET_KEY", "IMAGES_API_KEYS", "IMAGES_DATABASE_URL"}


def test_secrets_env_is_never_committed() -> None:
    assert (BASE / ".gitignore").read_text().splitlines() == ["secrets.env"]
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    (generator,) = kustomization["secretGenerator"]
    assert generator["envs"] == ["secrets.env"]


def test_the_readme_script_writes_strong_secrets_and_needs_the_passwords(
    base: Path, tmp_path: Path
) -> None:
    values = _env_file(base / "secrets.env")
    assert len(values["IMAGES_SECRET_KEY"]) == 64
    assert re.fullmatch(r"admin:[0-9a-f]{48}", values["IMAGES_API_KEYS"])
    assert PASSWORDS["POSTGRES_PASSWORD"] in values["IMAGES_DATABASE_URL"]
    assert values["AWS_SECRET_ACCESS_KEY"] == PASSWORDS["MINIO_APP_PASSWORD"]
    again = tmp_path / "again"
    again.mkdir()
    assert _write_secrets(again, PASSWORDS).returncode == 0
    assert _env_file(again / "secrets.env")["IMAGES_SECRET_KEY"] != values["IMAGES_SECRET_KEY"]
    assert (again / "secrets.env").stat().st_mode & 0o077 == 0  # umask 077: the owner's only
    for name in PASSWORDS:  # each password left unset stops the script, naming it
        missing = tmp_path / name
        missing.mkdir()
        written = _write_secrets(missing, {k: v for k, v in PASSWORDS.items() if k != name})
        assert written.returncode != 0
        assert name in written.stderr


def test_the_whole_environment_loads_as_the_scaled_stacks_settings(
    objects: list[Object], monkeypatch: pytest.MonkeyPatch
) -> None:
    image_env = parse(ROOT / "Dockerfile")[-1].env()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    compose_env = compose["services"]["app"]["environment"]
    environments = [_settings_env(objects, c) for c in _app_containers(objects)]
    assert len(environments) == 4  # app and worker, each with its migrate init container
    assert all(env == environments[0] for env in environments)
    env = environments[0]
    for name, value in compose_env.items():  # the same stack as docker-compose.yml
        if name in env and "${" not in str(value):
            assert env[name] == str(value), name
    for name in list(os.environ):
        if name.startswith(("IMAGES_", "AWS_")):
            monkeypatch.delenv(name)
    for name, value in (image_env | env).items():
        if name.startswith("IMAGES_"):
            monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.storage == "s3"
    assert settings.cache == "s3"  # one result cache: every pod hits what any pod rendered
    assert settings.s3_bucket == compose_env["IMAGES_S3_BUCKET"]
    assert settings.database_url is not None
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.queue_url is not None
    assert settings.queue_url.startswith("redis://")
    assert settings.rate_limit_storage_url.startswith("redis://")
    assert settings.queue_url != settings.rate_limit_storage_url
    assert len(settings.secret_key) == 1  # one key for every pod, never generated per pod
    assert settings.api_keys
    assert settings.trusted_proxies == 1
    assert settings.data_dir == Path(image_env["IMAGES_DATA_DIR"])


def test_the_worker_runs_jobs_and_every_pod_migrates_first(objects: list[Object]) -> None:
    dockerfile_cmd = parse(ROOT / "Dockerfile")[-1].all("CMD")[-1].words
    app, worker = find(objects, "Deployment", "app"), find(objects, "Deployment", "worker")
    (serve,) = pod_spec(app)["containers"]
    (jobs,) = pod_spec(worker)["containers"]
    assert serve["command"] == dockerfile_cmd == ["images-server", "serve"]
    assert jobs["command"] == ["images-server", "worker"]
    # with the queue on Redis, `serve` starts no job worker of its own: the worker pods run them
    config = find(objects, "ConfigMap", "images-server-config")["data"]
    assert "IMAGES_SERVE_WORKER" not in config
    assert jobs["readinessProbe"]["exec"]["command"] == ["images-server", "check"]
    assert "livenessProbe" not in jobs  # `check` fails with a backing service: no restarts
    for workload in (app, worker):
        (migrate,) = pod_spec(workload)["initContainers"]
        assert migrate["command"] == ["images-server", "migrate"]
        assert migrate["image"] == pod_spec(workload)["containers"][0]["image"]
    used = {c["command"][1] for c in _app_containers(objects)}
    assert used == {"serve", "worker", "migrate"}
    assert used <= set(cli.commands)
    assert "Job" not in {o["kind"] for o in objects}  # migrations are the init containers


def _selects(selector: Object, workload: Object) -> bool:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in selector.items())


def test_the_hpa_scales_the_web_deployment_on_cpu(objects: list[Object]) -> None:
    hpa = find(objects, "HorizontalPodAutoscaler", "app")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    app = find(objects, "Deployment", target["name"])
    assert pod_spec(app)["containers"][0]["command"] == ["images-server", "serve"]
    assert "replicas" not in app["spec"]  # the HPA's: an apply would reset it
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    # utilization is of the request, so every container of the pod requests CPU
    assert all("cpu" in c["resources"]["requests"] for c in containers(app))


def test_the_pdb_and_the_service_select_the_web_pods_only(objects: list[Object]) -> None:
    app = find(objects, "Deployment", "app")
    pdb = find(objects, "PodDisruptionBudget", "app")
    service = find(objects, "Service", "app")
    for selector in (pdb["spec"]["selector"]["matchLabels"], service["spec"]["selector"]):
        assert [w["metadata"]["name"] for w in deployments(objects) if _selects(selector, w)] == [
            "app"
        ]
    assert app["spec"]["selector"]["matchLabels"] == pdb["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["maxUnavailable"] == 1
    (serve,) = pod_spec(app)["containers"]
    (port,) = service["spec"]["ports"]
    assert _port(serve, port["targetPort"]) == port["port"]
    # NGINX's upstream: the Service's name and port
    assert f"server {service['metadata']['name']}:{port['port']};" in _nginx_conf()


def _nginx_conf() -> str:
    return (ROOT / "nginx/nginx.conf").read_text()


def test_nginx_runs_the_repos_config_and_serves_the_apps_purge_url(objects: list[Object]) -> None:
    nginx = find(objects, "Deployment", "nginx")
    (container,) = pod_spec(nginx)["containers"]
    files = find(objects, "ConfigMap", "nginx-config")["data"]
    image = parse(ROOT / "nginx/Dockerfile")[-1]
    copied = {tuple(copy.operands()) for copy in image.all("COPY")}
    mounted = {m["subPath"]: m["mountPath"] for m in container["volumeMounts"] if "subPath" in m}
    assert set(copied) == set(mounted.items())  # each file the image copies, mounted over it
    for name in files:  # the copies kustomize can read are the repo's files, byte for byte
        assert files[name] == (ROOT / "nginx" / name).read_text(), (
            f"copy nginx/{name} to deploy/kubernetes/nginx/"
        )
    assert set(files) == set(mounted)
    config = find(objects, "ConfigMap", "images-server-config")["data"]
    match = re.fullmatch(r"http://(\w+):(\d+)(/\w+)", config["IMAGES_NGINX_PURGE_URL"])
    assert match
    service = find(objects, "Service", match[1])
    (purge,) = [p for p in service["spec"]["ports"] if p["port"] == int(match[2])]
    assert _selects(service["spec"]["selector"], nginx)
    assert _port(container, purge["targetPort"]) == int(match[2])
    assert f"listen {match[2]};" in _nginx_conf()
    assert f'location ~ "^{match[3]}/image/' in _nginx_conf()
    (http,) = [p for p in service["spec"]["ports"] if p["name"] == "http"]
    assert "listen 80;" in _nginx_conf()
    assert _port(container, http["targetPort"]) == 80
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"  # 8080 never published
    assert nginx["spec"]["replicas"] == 1  # a purge reaches every cached copy
    cache = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}["/var/cache/nginx"]
    assert "proxy_cache_path /var/cache/nginx/images " in _nginx_conf()
    (volume,) = [v for v in pod_spec(nginx)["volumes"] if v["name"] == cache]
    max_size = re.search(r"max_size=(\d+)g", _nginx_conf())
    assert max_size
    assert int(volume["emptyDir"]["sizeLimit"].removesuffix("Gi")) > int(max_size[1])


def test_only_the_web_pods_reach_the_purge_port(objects: list[Object]) -> None:
    policy = find(objects, "NetworkPolicy", "nginx")
    nginx = find(objects, "Deployment", "nginx")
    assert _selects(policy["spec"]["podSelector"]["matchLabels"], nginx)
    open_rule, purge_rule = policy["spec"]["ingress"]
    assert open_rule == {"ports": [{"port": "http"}]}
    assert purge_rule["ports"] == [{"port": "purge"}]
    (source,) = purge_rule["from"]
    selector = source["podSelector"]["matchLabels"]
    assert [w["metadata"]["name"] for w in deployments(objects) if _selects(selector, w)] == ["app"]


# Pod Security Standards, "restricted" (the namespace enforces it), and the sysctls it allows
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
}


def test_every_pod_runs_non_root_read_only_and_unprivileged(objects: list[Object]) -> None:
    namespace = find(objects, "Namespace", "images-server")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]} == {
        "images-server"
    }
    image_uid = parse(ROOT / "Dockerfile")[-1].all("USER")[-1].text.split(":")[0]
    for workload in deployments(objects):
        spec = pod_spec(workload)
        context = spec["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] > 0
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert {s["name"] for s in context.get("sysctls", [])} <= SAFE_SYSCTLS
        assert spec["automountServiceAccountToken"] is False
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(spec)
        for volume in spec["volumes"]:
            assert set(volume) - {"name"} <= {"emptyDir", "configMap"}
        for container in containers(workload):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert "memory" in container["resources"]["limits"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            if container["image"].startswith(IMAGE + ":"):
                assert context["runAsUser"] == int(image_uid)
                mounts = {m["mountPath"] for m in container["volumeMounts"]}
                data_dir = parse(ROOT / "Dockerfile")[-1].env()["IMAGES_DATA_DIR"]
                assert mounts == {"/tmp", data_dir}  # all the app writes on its own disk


def test_images_are_the_readmes_placeholders(objects: list[Object]) -> None:
    images = {c["image"] for w in deployments(objects) for c in containers(w)}
    assert {image.rsplit(":", 1)[0] for image in images} == {IMAGE, NGINX_IMAGE}
    assert len({image.rsplit(":", 1)[1] for image in images}) == 1  # one release of both
    section = _readme_section()
    assert "$REGISTRY/images-server:$TAG ." in section
    assert "$REGISTRY/images-server-nginx:$TAG nginx" in section
    assert f"name: {IMAGE}\n" in section
    assert f"name: {NGINX_IMAGE}\n" in section
