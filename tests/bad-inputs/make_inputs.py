#!/usr/bin/env python3
"""Writes the committed input files of tests/bad-inputs/ (compose/, env/,
conventions/, plans/, specs/). The expected outcomes live in cases.json,
written by hand from reviewed runs; this script only makes the inputs.
Big inputs (10,000 entries, 1 MiB lines) are made by the Rust test itself."""
import hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))

def w(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, 'wb') as f:
        f.write(data)

S = 'services:\n  a:\n    image: x\n    ports:\n'
def ports(*entries):
    return S + ''.join(f'      - {e}\n' for e in entries)

# --- compose files (placed as compose.yaml) --------------------------------
c = {
 'unclosed-quote': S + '      - "80:80\n',
 'unclosed-single-quote': S + "      - '80:80\n",
 'bad-indent': 'services:\n  a:\n    image: x\n   ports:\n      - "80:80"\n',
 'tab-indent': 'services:\n\ta:\n\t\timage: x\n',
 'tab-after-dash': S + '      -\t"80:80"\n',
 'unclosed-flow-seq': 'services: {a: {image: x, ports: [1\n',
 'unclosed-flow-map': 'services: {a: {image: x\n',
 'mapping-in-scalar': 'services:\n  a: b: c\n',
 'unknown-alias': 'services: *nope\n',
 'alias-bomb': 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + ''.join(
     f'{chr(98+i)}: &{chr(98+i)} [*{chr(97+i)},*{chr(97+i)},*{chr(97+i)},*{chr(97+i)},*{chr(97+i)},*{chr(97+i)},*{chr(97+i)},*{chr(97+i)},*{chr(97+i)},*{chr(97+i)}]\n' for i in range(8)) + 'services:\n  a:\n    image: x\n    ports: *i\n',
 'deep-nesting-seq': S + '      - ' + '[' * 200 + ']' * 200 + '\n',
 'deep-nesting-map': 'services:\n  a:\n    image: x\n    x: ' + '{a: ' * 200 + '1' + '}' * 200 + '\n',
 'huge-integer': ports('99999999999999999999999999999999'),
 'huge-float': ports('1e400'),
 'huge-published-long': S + '      - target: 80\n        published: 18446744073709551616\n',
 'negative-port': ports('-1'),
 'nan-port': ports('.nan'),
 'inf-port': ports('.inf'),
 'float-port': ports('80.5'),
 'hex-port': ports('0x50'),
 'octal-port': ports('0o120'),
 'bool-port': ports('true'),
 'null-port-entry': ports('null'),
 'nul-byte': S + '      - "80\x00:80"\n',
 'invalid-utf8': (S + '      - "80:80"  # caf').encode() + b'\xff\xfe\n',
 'bom': '\ufeff' + ports('"80:80/xyz"'),
 'crlf': ports('"5432:5432"', '"1:2:3:4"').replace('\n', '\r\n'),
 'cr-only': ports('"80:80"').replace('\n', '\r'),
 'cr-only-bad-port': ports('"abc"').replace('\n', '\r'),
 'duplicate-top-key': 'services:\n  a:\n    image: x\nservices:\n  b:\n    image: y\n',
 'duplicate-service': 'services:\n  a:\n    image: x\n  a:\n    image: y\n',
 'duplicate-ports-key': S + '      - "80:80"\n    ports:\n      - "81:81"\n',
 'services-list': 'services:\n  - a\n  - b\n',
 'services-scalar': 'services: hello\n',
 'services-null': 'services:\n',
 'service-scalar': 'services:\n  a: 5\n',
 'service-list': 'services:\n  a: [1, 2]\n',
 'ports-map': 'services:\n  a:\n    image: x\n    ports: {http: 80}\n',
 'ports-null': 'services:\n  a:\n    image: x\n    ports:\n',
 'ports-nested-list': ports('[80, 81]'),
 'ports-scalar': 'services:\n  a:\n    image: x\n    ports: "80:80"\n',
 'port-entry-empty-map': ports('{}'),
 'long-syntax-unknown-key': S + '      - target: 80\n        published: 8080\n        colour: red\n',
 'long-syntax-no-target': S + '      - published: 8080\n',
 'long-syntax-published-list': S + '      - target: 80\n        published: [1, 2]\n',
 'spec-garbage': ports('"abc"'),
 'spec-hostname': ports('"localhost:80:80"'),
 'spec-range-mismatch': ports('"80-81:90-95"'),
 'spec-range-reversed': ports('"90-80:80"'),
 'spec-port-zero': ports('"0:80"'),
 'spec-port-65536': ports('"65536:80"'),
 'spec-bad-protocol': ports('"80:80/xyz"'),
 'spec-empty': ports('""'),
 'spec-ipv6-unbracketed': ports('"::1:80:80"'),
 'spec-too-many-colons': ports('"1.2.3.4:80:80:80"'),
 'interp-unclosed': ports('"${PORT"'),
 'interp-lone-brace': ports('"${"'),
 'interp-trailing-dollar': ports('"80:80$"'),
 'interp-required-empty-message': ports('"${X:?}:80"'),
 'interp-required-message': ports('"${X:?X must be set}:80"'),
 'interp-dollar-dollar': ports('"$$80:80"'),
 'interp-unicode-name': ports('"${PÖRT:-80}:80"'),
 'interp-space-in-name': ports('"${ A}:80"'),
 'interp-empty-name': ports('"${:-80}:80"'),
 'interp-too-deep': ports('"' + '${A:-' * 120 + '80' + '}' * 120 + ':80"'),
 'interp-default-with-colon': ports('"${P:-80:80}"'),
 'interp-in-key': 'services:\n  ${A}:\n    image: x\n    ports: ["80:80"]\n',
 'multi-document': ports('"80:80"') + '---\n' + ports('"81:81"'),
 'empty': '',
 'only-comments': '# nothing\n# here\n',
 'top-level-list': '- a\n- b\n',
 'top-level-scalar': 'hello\n',
 'custom-tag': 'services:\n  a:\n    image: x\n    ports: !foo ["80:80"]\n',
 'binary-tag': 'services:\n  a:\n    image: x\n    ports: [!!binary "ODA6ODA="]\n',
 'merge-scalar': 'x: &b 5\nservices:\n  a:\n    <<: *b\n    image: x\n',
 'merge-list-of-scalars': 'x: &b [1, 2]\nservices:\n  a:\n    <<: *b\n    image: x\n',
 'anchor-forward-use': 'services:\n  a: *later\n  b: &later {image: x}\n',
 'reset-on-scalar': 'services:\n  a:\n    image: x\n    ports: !reset 5\n',
 'override-on-map': 'services:\n  a: !override {image: x, ports: ["80:80"]}\n',
 'profiles-scalar': 'services:\n  a:\n    image: x\n    profiles: dev\n    ports: ["80:80"]\n',
 'control-chars-name': 'services:\n  "a\\e]0;pwn\\a":\n    image: x\n    ports: ["80:80"]\n',
 'very-long-key': 'services:\n  ' + 'k' * 5000 + ':\n    image: x\n',
 'extends-self-cycle': 'services:\n  a:\n    image: x\n    extends: b\n    ports: ["80:80"]\n  b:\n    extends: a\n',
 'extends-missing-file': 'services:\n  a:\n    image: x\n    extends: {file: nope.yml, service: b}\n',
 'extends-outside-root': 'services:\n  a:\n    image: x\n    extends: {file: ../outside.yml, service: b}\n',
 'extends-missing-service': 'services:\n  a:\n    image: x\n    extends: {service: nope}\n',
 'include-missing-file': 'include:\n  - nope.yml\nservices:\n  a:\n    image: x\n',
 'include-self': 'include:\n  - compose.yaml\nservices:\n  a:\n    image: x\n    ports: ["80:80"]\n',
 'include-absolute': 'include:\n  - /etc/passwd\nservices:\n  a:\n    image: x\n',
 'include-cycle': 'include:\n  - sub/compose.yaml\nservices:\n  a:\n    image: x\n    ports: ["80:80"]\n',
 'include-wrong-type': 'include: 5\nservices:\n  a:\n    image: x\n',
 'same-port-twice': ports('"5433:5432"', '"5433:5433"'),
 'huge-range-one-target': ports('"1-65535:80"'),
 'ranges-full-3k6': S + ''.join('      - "1-65535:1-65535"\n' for _ in range(3600 // 26)),
}
for name, text in c.items():
    w(f'compose/{name}.yml', text)
# the second file of include-cycle
w('compose/include-cycle.sub.yml', 'include:\n  - ../compose.yaml\nservices:\n  b:\n    image: y\n    ports: ["81:81"]\n')

# --- .env files (placed as .env beside compose/uses-env.yml) -----------------
w('env/_compose-uses-env.yml', 'services:\n  a:\n    image: x\n    ports:\n      - "${PORT:-7000}:80"\n')
e = {
 'unterminated-double': 'A=1\nPORT="7000\nB=2\n',
 'unterminated-single': "A=1\nPORT='7000\n",
 'export-alone': 'export\n',
 'export-no-key': 'export =1\n',
 'export-ok-then-bad': 'export PORT=7000\nexport B="x\n',
 'many-keys-one-line': 'A=1 B=2 C=3 PORT=7001\n',
 'key-with-space': 'MY KEY=1\n',
 'key-with-dash': 'A-B=1\n',
 'key-starts-with-digit': '1A=2\n',
 'empty-key': '=1\n',
 'nul-byte': 'PORT=70\x0001\n',
 'invalid-utf8': b'A=caf\xe9\nPORT=7001\n',
 'bom': '\ufeffPORT=7001\n',
 'bom-bad-line': '\ufeffA="x\n',
 'crlf': 'A=1\r\nPORT=7001\r\n',
 'crlf-bad-line': 'A=1\r\nB="x\r\n',
 'tabs': 'PORT\t=\t7001\t# tab\n',
 'interp-unclosed': 'PORT=${A\n',
 'interp-lone': 'PORT=${\n',
 'interp-required': 'PORT=${X:?X must be set}\n',
 'duplicate-keys': 'PORT=7001\nPORT=7002\n',
 'backslash-end-double': 'PORT="7001\\"\n',
 'only-hash': '#\n',
 'value-port-not-number': 'PORT=abc\n',
 'value-port-huge': 'PORT=99999999999999999999\n',
 'compose-file-outside': 'COMPOSE_FILE=../../etc/passwd\n',
 'compose-file-missing': 'COMPOSE_FILE=nope.yml\n',
 'compose-file-absolute': 'COMPOSE_FILE=/etc/hosts\n',
 'single-quote-inside-double': 'PORT="70\'01"\n',
 'control-chars': 'A=\x1b]0;pwn\x07\nPORT=7001\n',
}
for name, text in e.items():
    w(f'env/{name}.env', text)

# --- conventions (check --convention-only -c ports.yaml) ---------------------
V = 'version: 1.0.0\n'
k = {
 'overlapping-ranges': V + 'ranges:\n  a: { ports: 7000-7999 }\n  b: { ports: 7500-8500 }\nservices: {}\n',
 'nested-outside-parent': V + 'ranges:\n  a:\n    ports: 7000-7099\n    ranges:\n      b: { ports: 7050-7200 }\nservices: {}\n',
 'unknown-top-key': V + 'rangez: {}\nservices: {}\n',
 'unknown-range-key': V + 'ranges:\n  a: { ports: 7000-7999, colour: red }\nservices: {}\n',
 'ports-wrong-type': V + 'ranges:\n  a: { ports: [7000, 7999] }\nservices: {}\n',
 'version-not-semver': 'version: one\nranges: {}\nservices: {}\n',
 'version-number': 'version: 1\nranges: {}\nservices: {}\n',
 'range-reversed': V + 'ranges:\n  a: { ports: 7999-7000 }\nservices: {}\n',
 'range-past-65535': V + 'ranges:\n  a: { ports: 7000-70000 }\nservices: {}\n',
 'port-past-65535': V + 'ranges:\n  a: { ports: 7000-7999 }\nservices:\n  s:\n    range: a\n    ports:\n      p: { port: 70000 }\n',
 'port-nan': V + 'ranges:\n  a: { ports: 7000-7999 }\nservices:\n  s:\n    range: a\n    ports:\n      p: { port: .nan }\n',
 'port-negative': V + 'ranges:\n  a: { ports: 7000-7999 }\nservices:\n  s:\n    range: a\n    ports:\n      p: { port: -5 }\n',
 'port-huge': V + 'ranges:\n  a: { ports: 7000-7999 }\nservices:\n  s:\n    range: a\n    ports:\n      p: { port: 123456789012345678901234567890 }\n',
 'range-name-twice': V + 'ranges:\n  a:\n    ports: 7000-7999\n    ranges:\n      a: { ports: 7000-7099 }\nservices: {}\n',
 'duplicate-keys': V + 'ranges:\n  a: { ports: 7000-7999 }\n  a: { ports: 8000-8999 }\nservices: {}\n',
 'duplicate-assignment': V + 'ranges:\n  a: { ports: 7000-7999 }\nservices:\n  s:\n    range: a\n    ports:\n      p: { port: 7001 }\n  t:\n    range: a\n    ports:\n      p: { port: 7001 }\n',
 'port-outside-range': V + 'ranges:\n  a: { ports: 7000-7999 }\nservices:\n  s:\n    range: a\n    ports:\n      p: { port: 8001 }\n',
 'unknown-service-range': V + 'ranges:\n  a: { ports: 7000-7999 }\nservices:\n  s:\n    range: nope\n    ports:\n      p: { port: 7001 }\n',
 'alias-bomb': 'x0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n' + ''.join(f'x{i+1}: &a{i+1} [' + ','.join([f'*a{i}'] * 10) + ']\n' for i in range(8)) + V + 'ranges: {}\nservices: {}\n',
 'deep-nesting': V + 'ranges: ' + '[' * 300 + ']' * 300 + '\nservices: {}\n',
 'empty': '',
 'scalar': 'hello\n',
 'list': '- 1\n- 2\n',
 'requires-future': V + 'requires: ">=99.0.0"\nranges: {}\nservices: {}\n',
 'invalid-utf8': (V + 'name: caf').encode() + b'\xe9\nranges: {}\nservices: {}\n',
 'bom-crlf': ('\ufeff' + V + 'ranges:\n  a: { ports: 7000-7999 }\n  b: { ports: 7500-8500 }\nservices: {}\n').replace('\n', '\r\n'),
 'tab-indent': V + 'ranges:\n\ta: { ports: 7000-7999 }\nservices: {}\n',
 'nul-byte': V + 'name: "a\x00b"\nranges: {}\nservices: {}\n',
 'unclosed-quote': V + 'name: "abc\nranges: {}\n',
 'ephemeral-range': V + 'ranges:\n  a: { ports: 40000-40100 }\nservices: {}\n',
}
for name, text in k.items():
    w(f'conventions/{name}.yaml', text)
MINIMAL = V + 'ranges:\n  apps: { ports: 7000-7999 }\nservices: {}\n'
w('conventions/_minimal.yaml', MINIMAL)

# --- plans (migrate apply plan.json) -----------------------------------------
tree_file = 'services:\n  db:\n    image: postgres\n    ports:\n      - "5433:5432"\n'
w('plans/_tree-compose.yml', tree_file)
h = hashlib.sha256(tree_file.encode()).hexdigest()
new = tree_file.replace('5433', '7000')
hn = hashlib.sha256(new.encode()).hexdigest()
start = tree_file.index('5433')
def plan(files=None, stacks=None, **over):
    p = {"format": "port-convention-migration-plan", "version": 1, "tool_version": "0.1.0", "root": "",
         "convention": {"path": "ports.yaml", "version": "1.0.0",
                        "sha256": hashlib.sha256(MINIMAL.encode()).hexdigest()},
         "options": {"use_env_vars": False, "rename_vars": False, "maps": []},
         "files": files if files is not None else [entry()],
         "changes": [], "targets": [], "stacks": stacks if stacks is not None else ["compose.yaml"],
         "not_found": [], "notes": [], "problems": []}
    p.update(over)
    return json.dumps(p, indent=1) + '\n'
def entry(file='compose.yaml', sha=None, edits=None):
    return {"file": file, "kind": "compose", "sha256": sha or h, "new_sha256": hn,
            "edits": edits if edits is not None else [{"start": start, "end": start + 4, "old": "5433", "new": "7000", "line": 5, "column": 10}]}
p = {
 'dotdot': plan([entry('../x.yml')]),
 'dotdot-inner': plan([entry('a/../../x.yml')]),
 'absolute': plan([entry('/etc/passwd')]),
 'dot-component': plan([entry('./compose.yaml')]),
 'git-dir': plan([entry('.git/config')]),
 'state-dir': plan([entry('.port-convention/lock')]),
 'backslash': plan([entry('a\\b.yml')]),
 'control-char': plan([entry('a\x1b[2J.yml')]),
 'drive-letter': plan([entry('C:x.yml')]),
 'empty-name': plan([entry('')]),
 'listed-twice': plan([entry(), entry()]),
 'stack-dotdot': plan(stacks=['../x.yml']),
 'wrong-hash': plan([entry(sha='0' * 64)]),
 'edit-out-of-bounds': plan([entry(edits=[{"start": 5000, "end": 5004, "old": "5433", "new": "7000", "line": 5, "column": 10}])]),
 'edit-not-char-boundary': plan([entry(edits=[{"start": start, "end": start + 2, "old": "54", "new": "é", "line": 5, "column": 10}, {"start": start + 1, "end": start + 3, "old": "43", "new": "x", "line": 5, "column": 11}])]),
 'missing-file': plan([entry('nope.yml')], stacks=[]),
 'root-elsewhere': plan(root='/'),
 'has-problems': plan(problems=[{"message": "something is wrong"}]),
 'no-convention-hash': plan(convention={"path": "ports.yaml", "version": "1.0.0", "sha256": ""}),
 'convention-path-outside': plan(convention={"path": "/etc/hostname", "version": "1.0.0", "sha256": "0" * 64}),
 'convention-path-dotdot': plan(convention={"path": "../../../../../../etc/hostname", "version": "1.0.0", "sha256": "0" * 64}),
 'torn': plan()[:300],
 'not-json': 'this is not json\n',
 'empty': '',
 'wrong-format': plan(format='something-else'),
 'wrong-version': plan(version=2),
 'deep-nesting': '{"format":"port-convention-migration-plan","x":' + '[' * 200 + ']' * 200 + '}\n',
 'huge-number': plan([entry(edits=[{"start": 10 ** 30, "end": 10 ** 30, "old": "", "new": "x", "line": 1, "column": 1}])]),
 'nul-in-name': plan([entry('a\x00b.yml')]),
 'wrong-types': '{"format":"port-convention-migration-plan","version":"1","files":{}}\n',
}
for name, text in p.items():
    w(f'plans/{name}.json', text)

# --- port specs (parse-ports SPEC, one spec per file, no newline) ------------
s = {
 'full-range': '1-65535:1-65535',
 'lone-brace': '${',
 'required': '${X:?}',
 'garbage': 'abc',
 'long-syntax-huge': '{"target": 99999999999999999999, "published": "80"}',
 'long-syntax-not-object': '[1, 2]',
 'bad-json': '{"target": ',
 'ipv6-zone': '[fe80::1%eth0]:80:80',
 'many-colons': ':' * 1000,
}
for name, text in s.items():
    w(f'specs/{name}.txt', text)
