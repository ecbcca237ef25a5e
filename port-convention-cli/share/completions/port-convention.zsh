#compdef port-convention

autoload -U is-at-least

_port-convention() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_port-convention_commands" \
"*::: :->port-convention" \
&& ret=0
    case $state in
    (port-convention)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:port-convention-command-$line[1]:"
        case $line[1] in
            (schema)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(parse-ports)
_arguments "${_arguments_options[@]}" : \
'*--env=[A variable for interpolating the specs (repeatable). Only these are used\: the process environment is not, so output is reproducible]:KEY=VALUE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'*::specs -- Port specs in compose short syntax (`127.0.0.1\:8080\:80/tcp`), or JSON objects in long syntax (`{"target"\:80,"published"\:"8080"}`):_default' \
&& ret=0
;;
(allocate)
_arguments "${_arguments_options[@]}" : \
'-c+[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'*--env-file=[Interpolation variables from this file instead of each project'\''s .env (repeatable; later files win; the process environment wins over all)]:FILE:_files' \
'--count=[How many ports]:COUNT:_default' \
'--format=[Output format\: one port a line, or JSON ({"range", "ports"})]:FORMAT:((text\:"Plain text"
json\:"JSON"))' \
'--live[Also skip ports held on this machine right now (sockets, containers)]' \
'--explain[Say on stderr why each port below the last one given was skipped]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':range -- The range name, as declared in ports.yaml:_default' \
'*::paths -- Directories to scan (default\: the directory of ports.yaml, else the current directory):_files' \
&& ret=0
;;
(check)
_arguments "${_arguments_options[@]}" : \
'-c+[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'*--env-file=[Interpolation variables from this file instead of each project'\''s .env (repeatable; later files win; the process environment wins over all)]:FILE:_files' \
'--format=[Output format]:FORMAT:((human\:"Grouped by file, with source lines and carets"
json\:"The versioned JSON contract (docs/json-output.md)"
sarif\:"SARIF 2.1.0"
github\:"GitHub Actions workflow annotations"
openmetrics\:"Metrics for node_exporter'\''s textfile collector (OpenMetrics text)"
gitlab\:"GitLab CI code quality report (JSON)"))' \
'--color=[When to colour human output (auto\: on a terminal, unless NO_COLOR is set)]:COLOR:(auto always never)' \
'*--only=[With --live\: only findings about these compose services (a preflight before \`docker compose up SERVICE...\`)]:SERVICE:_default' \
'--convention-only[Only validate ports.yaml itself; read no compose or .env file]' \
'--live[Also check this machine\: sockets and containers holding the ports (live-* rules)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'*::paths -- Directories to scan (default\: the directory of ports.yaml, else the current directory):_files' \
&& ret=0
;;
(scan)
_arguments "${_arguments_options[@]}" : \
'-c+[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'*--env-file=[Interpolation variables from this file instead of each project'\''s .env (repeatable; later files win; the process environment wins over all)]:FILE:_files' \
'--format=[Output format]:FORMAT:((table\:"Aligned columns"
json\:"Versioned JSON\: \`{"version"\: 1, "ports"\: \[...\]}\` (docs/json-output.md)"
csv\:"Comma-separated values with a header row"))' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'*::paths -- Directories to scan (default\: the directory of ports.yaml, else the current directory):_files' \
&& ret=0
;;
(projects)
_arguments "${_arguments_options[@]}" : \
'-c+[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'*--env-file=[Interpolation variables from this file instead of each project'\''s .env (repeatable; later files win; the process environment wins over all)]:FILE:_files' \
'--format=[Output format]:FORMAT:((table\:"One block per project"
json\:"The versioned JSON shape (docs/json-output.md)"))' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'*::paths -- Directories to scan (default\: the directory of ports.yaml, else the current directory):_files' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
':shell -- The shell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(ports)
_arguments "${_arguments_options[@]}" : \
'-c+[The convention file (default\: ports.yaml here or in a parent directory; none found\: no annotation)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml here or in a parent directory; none found\: no annotation)]:CONVENTION:_files' \
'--format=[Output format]:FORMAT:((table\:"Aligned columns"
json\:"One JSON object (\`schema\`, \`version\`, \`ports\`, \`containers\`, \`notes\`)"))' \
'--live[Read this machine\: listening TCP and bound UDP sockets with their processes, and the containers of the Docker (or podman) daemon]' \
'--no-docker[Don'\''t ask a container engine; sockets only]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(migrate)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
":: :_port-convention__subcmd__migrate_commands" \
"*::: :->migrate" \
&& ret=0

    case $state in
    (migrate)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:port-convention-migrate-command-$line[1]:"
        case $line[1] in
            (plan)
_arguments "${_arguments_options[@]}" : \
'-c+[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'*--map=[Also move .env values equal to OLD of the variables of the service assigned NEW (repeatable), beyond the convention'\''s \`legacy\:\` ports]:OLD=NEW:_default' \
'--out=[Save the plan (with the SHA-256 of every file it would touch) here]:FILE:_files' \
'--format=[Output format]:FORMAT:((human\:"A summary and a unified diff"
json\:"The plan as JSON (the same as --out writes)"))' \
'--color=[When to colour the diff (auto\: on a terminal, unless NO_COLOR is set)]:COLOR:(auto always never)' \
'--use-env-vars[Turn literal mappings into \${VAR\:-port} with the convention'\''s variable (adding VAR=port to the project'\''s .env files) and rename variables that differ from the convention'\''s]' \
'--rename-vars[Rename variables that differ from the convention'\''s, in compose and the project'\''s .env files alike]' \
'--source[Also move stale port literals of source and configuration files (findings of rule stale-port) to their new ports]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::path -- The directory to migrate (default\: the directory of ports.yaml); one directory, as every migrate command takes (its backups live under it):_files' \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
'-c+[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml in the scanned directory or a parent)]:CONVENTION:_files' \
'*--map=[Also move .env values equal to OLD of the variables of the service assigned NEW (repeatable), beyond the convention'\''s \`legacy\:\` ports]:OLD=NEW:_default' \
'--root=[Apply the plan in DIR instead of the directory it names (a plan file is not trusted to choose where it writes)]:DIR:_files' \
'--use-env-vars[Turn literal mappings into \${VAR\:-port} with the convention'\''s variable (adding VAR=port to the project'\''s .env files) and rename variables that differ from the convention'\''s]' \
'--rename-vars[Rename variables that differ from the convention'\''s, in compose and the project'\''s .env files alike]' \
'--source[Also move stale port literals of source and configuration files (findings of rule stale-port) to their new ports]' \
'--skip-port-check[Do not refuse when a target port is listening on this machine (tests, CI)]' \
'-h[Print help]' \
'--help[Print help]' \
'::plan -- A plan saved by `migrate plan --out`, or the directory to plan and apply in one go (default\: plan now and apply in the directory of ports.yaml):_files' \
&& ret=0
;;
(rollback)
_arguments "${_arguments_options[@]}" : \
'--root=[The migrated directory, with an id as BACKUP (same as giving the directory as PATH)]:DIR:_files' \
'-c+[The convention file used to find the default root]:CONVENTION:_files' \
'--convention=[The convention file used to find the default root]:CONVENTION:_files' \
'--force[Restore files even if they changed since the migration wrote them]' \
'-h[Print help]' \
'--help[Print help]' \
'::backup -- The migrated directory (its last migration), a backup directory .port-convention/backups/<id>, or an id (default\: the last migration of the nearest directory upward with .port-convention/backups, else of the directory of ports.yaml):_default' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--root=[The migrated directory (same as PATH)]:DIR:_files' \
'-c+[The convention file used to find the default root]:CONVENTION:_files' \
'--convention=[The convention file used to find the default root]:CONVENTION:_files' \
'--format=[Output format]:FORMAT:((human\:"Sentences"
json\:"JSON"))' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::path -- The migrated directory (default\: the nearest directory upward with .port-convention/backups, else the directory of ports.yaml):_files' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_port-convention__subcmd__migrate__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:port-convention-migrate-help-command-$line[1]:"
        case $line[1] in
            (plan)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rollback)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(render)
_arguments "${_arguments_options[@]}" : \
'-c+[The convention file (default\: ports.yaml here or in a parent directory)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml here or in a parent directory)]:CONVENTION:_files' \
'(--check)--out=[Write to FILE (atomically) instead of standard output]:FILE:_files' \
'--check=[Exit 1 with a unified diff when FILE is not what would be rendered (missing or stale); write nothing]:FILE:_files' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':kind -- What to render:((markdown\:"PORTS-CONVENTION.md with its SVG port map (written beside it as STEM.svg)"
svg\:"The SVG port map alone"
env\:"A .env with every port variable (and connection URLs)"
env-example\:"A .env.example with every port variable (and connection URLs)"
prometheus-targets\:"Prometheus file_sd JSON of the declared scrape targets"
prometheus-rules\:"Prometheus alerting rules (target down, protected range, conflicts, drift)"
grafana\:"A Grafana dashboard (database overview, port usage)"))' \
&& ret=0
;;
(init)
_arguments "${_arguments_options[@]}" : \
'*--protect=[Declare a protected range NAME=START-END (repeatable); the first one gets sub-ranges and every database-like service moves into it]:NAME=RANGE:_default' \
'--out=[Where to write the convention (default\: PATH/ports.yaml); must be inside PATH]:FILE:_files' \
'--name=[The convention'\''s name (default\: the root directory'\''s name)]:NAME:_default' \
'--format=[Format of the summary]:FORMAT:((table\:"A table\: service, port, kind, old -> new, variable"
json\:"\`{ "file", "rows", "notes" }\`"))' \
'--force[Replace an existing file at --out]' \
'--stdout[Print the convention instead of writing it]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::path -- The repository'\''s root (default\: the current directory):_files' \
&& ret=0
;;
(assign)
_arguments "${_arguments_options[@]}" : \
'--range=[The range (by name, as declared in ports.yaml) to take the port from]:RANGE:_default' \
'--port-name=[Only this port of the service (default\: every port not in the range)]:NAME:_default' \
'-c+[The convention file (default\: ports.yaml here or in a parent directory)]:CONVENTION:_files' \
'--convention=[The convention file (default\: ports.yaml here or in a parent directory)]:CONVENTION:_files' \
'-h[Print help]' \
'--help[Print help]' \
':service -- The service\: the convention'\''s name for it, or a compose service of the tree to add to the convention:_default' \
'::path -- The tree whose published ports are taken (default\: the directory of ports.yaml):_files' \
&& ret=0
;;
(explain)
_arguments "${_arguments_options[@]}" : \
'--format=[Output format\: text, or JSON (the rule'\''s documentation as data; without RULE, every rule'\''s)]:FORMAT:((text\:"Plain text"
json\:"JSON"))' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::rule -- The rule id, as findings name it (`drift`, `duplicate-host-port` ...):_default' \
&& ret=0
;;
(mcp)
_arguments "${_arguments_options[@]}" : \
'--root=[The directory the server answers for (default\: the current directory). Every path a tool is given, and every ports.yaml found for it, must resolve inside it; relative paths are taken from it]:DIR:_files' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_port-convention__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:port-convention-help-command-$line[1]:"
        case $line[1] in
            (schema)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(parse-ports)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(allocate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(check)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(scan)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(projects)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(ports)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(migrate)
_arguments "${_arguments_options[@]}" : \
":: :_port-convention__subcmd__help__subcmd__migrate_commands" \
"*::: :->migrate" \
&& ret=0

    case $state in
    (migrate)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:port-convention-help-migrate-command-$line[1]:"
        case $line[1] in
            (plan)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rollback)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(render)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(assign)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(explain)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(mcp)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_port-convention_commands] )) ||
_port-convention_commands() {
    local commands; commands=(
'schema:Print the JSON Schema of ports.yaml (for editors)' \
'parse-ports:Parse compose port specs and print one JSON object per spec' \
'allocate:Print the lowest free ports of a named range, one a line' \
'check:Check the repository (every compose and .env file) and the convention' \
'scan:List every published host port, sorted, with its owner and source' \
'projects:List the compose projects of the tree (what each \`docker compose\` invocation loads), their files, profiles and ports' \
'completions:Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell)' \
'man:Print the manual page (roff), generated from this command line' \
'ports:What holds each port on this machine (--live), with the convention'\''s view' \
'migrate:Move services to their assigned ports across compose and .env files, safely (plan, apply, rollback, status)' \
'render:Render a file from ports.yaml (markdown, svg, env, env-example, prometheus-targets, prometheus-rules, grafana); --check\: exit 1 with a diff when the file is stale' \
'init:Write a first ports.yaml describing the tree as it is; with --protect, move database-like services into a protected range' \
'assign:Give a service the next free port of a range, editing ports.yaml in place (comments and order kept)' \
'explain:Print a rule'\''s documentation (summary, severity, subject, why it matters, how to fix it, an example); without RULE, list every rule' \
'mcp:Serve the convention to assistants\: a Model Context Protocol server on stdin/stdout whose tools answer what check, scan, explain, allocate and migrate plan answer (read-only)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'port-convention commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__allocate_commands] )) ||
_port-convention__subcmd__allocate_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention allocate commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__assign_commands] )) ||
_port-convention__subcmd__assign_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention assign commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__check_commands] )) ||
_port-convention__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention check commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__completions_commands] )) ||
_port-convention__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention completions commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__explain_commands] )) ||
_port-convention__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention explain commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help_commands] )) ||
_port-convention__subcmd__help_commands() {
    local commands; commands=(
'schema:Print the JSON Schema of ports.yaml (for editors)' \
'parse-ports:Parse compose port specs and print one JSON object per spec' \
'allocate:Print the lowest free ports of a named range, one a line' \
'check:Check the repository (every compose and .env file) and the convention' \
'scan:List every published host port, sorted, with its owner and source' \
'projects:List the compose projects of the tree (what each \`docker compose\` invocation loads), their files, profiles and ports' \
'completions:Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell)' \
'man:Print the manual page (roff), generated from this command line' \
'ports:What holds each port on this machine (--live), with the convention'\''s view' \
'migrate:Move services to their assigned ports across compose and .env files, safely (plan, apply, rollback, status)' \
'render:Render a file from ports.yaml (markdown, svg, env, env-example, prometheus-targets, prometheus-rules, grafana); --check\: exit 1 with a diff when the file is stale' \
'init:Write a first ports.yaml describing the tree as it is; with --protect, move database-like services into a protected range' \
'assign:Give a service the next free port of a range, editing ports.yaml in place (comments and order kept)' \
'explain:Print a rule'\''s documentation (summary, severity, subject, why it matters, how to fix it, an example); without RULE, list every rule' \
'mcp:Serve the convention to assistants\: a Model Context Protocol server on stdin/stdout whose tools answer what check, scan, explain, allocate and migrate plan answer (read-only)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'port-convention help commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__allocate_commands] )) ||
_port-convention__subcmd__help__subcmd__allocate_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help allocate commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__assign_commands] )) ||
_port-convention__subcmd__help__subcmd__assign_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help assign commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__check_commands] )) ||
_port-convention__subcmd__help__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help check commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__completions_commands] )) ||
_port-convention__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help completions commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__explain_commands] )) ||
_port-convention__subcmd__help__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help explain commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__help_commands] )) ||
_port-convention__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help help commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__init_commands] )) ||
_port-convention__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help init commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__man_commands] )) ||
_port-convention__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help man commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__mcp_commands] )) ||
_port-convention__subcmd__help__subcmd__mcp_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help mcp commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__migrate_commands] )) ||
_port-convention__subcmd__help__subcmd__migrate_commands() {
    local commands; commands=(
'plan:Compute every edit that moves the convention'\''s services to their assigned ports; write nothing; print a unified diff' \
'apply:Apply a saved plan (or plan and apply in one go)\: pre-flight checks, backup, journal, atomic writes, re-scan. Resumes an interrupted migration' \
'rollback:Restore every file of a migration from its backup, byte for byte' \
'status:Say whether the last migration is complete, interrupted or rolled back' \
    )
    _describe -t commands 'port-convention help migrate commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__migrate__subcmd__apply_commands] )) ||
_port-convention__subcmd__help__subcmd__migrate__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help migrate apply commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__migrate__subcmd__plan_commands] )) ||
_port-convention__subcmd__help__subcmd__migrate__subcmd__plan_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help migrate plan commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__migrate__subcmd__rollback_commands] )) ||
_port-convention__subcmd__help__subcmd__migrate__subcmd__rollback_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help migrate rollback commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__migrate__subcmd__status_commands] )) ||
_port-convention__subcmd__help__subcmd__migrate__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help migrate status commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__parse-ports_commands] )) ||
_port-convention__subcmd__help__subcmd__parse-ports_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help parse-ports commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__ports_commands] )) ||
_port-convention__subcmd__help__subcmd__ports_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help ports commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__projects_commands] )) ||
_port-convention__subcmd__help__subcmd__projects_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help projects commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__render_commands] )) ||
_port-convention__subcmd__help__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help render commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__scan_commands] )) ||
_port-convention__subcmd__help__subcmd__scan_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help scan commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__help__subcmd__schema_commands] )) ||
_port-convention__subcmd__help__subcmd__schema_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention help schema commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__init_commands] )) ||
_port-convention__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention init commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__man_commands] )) ||
_port-convention__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention man commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__mcp_commands] )) ||
_port-convention__subcmd__mcp_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention mcp commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate_commands] )) ||
_port-convention__subcmd__migrate_commands() {
    local commands; commands=(
'plan:Compute every edit that moves the convention'\''s services to their assigned ports; write nothing; print a unified diff' \
'apply:Apply a saved plan (or plan and apply in one go)\: pre-flight checks, backup, journal, atomic writes, re-scan. Resumes an interrupted migration' \
'rollback:Restore every file of a migration from its backup, byte for byte' \
'status:Say whether the last migration is complete, interrupted or rolled back' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'port-convention migrate commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__apply_commands] )) ||
_port-convention__subcmd__migrate__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate apply commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__help_commands] )) ||
_port-convention__subcmd__migrate__subcmd__help_commands() {
    local commands; commands=(
'plan:Compute every edit that moves the convention'\''s services to their assigned ports; write nothing; print a unified diff' \
'apply:Apply a saved plan (or plan and apply in one go)\: pre-flight checks, backup, journal, atomic writes, re-scan. Resumes an interrupted migration' \
'rollback:Restore every file of a migration from its backup, byte for byte' \
'status:Say whether the last migration is complete, interrupted or rolled back' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'port-convention migrate help commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__help__subcmd__apply_commands] )) ||
_port-convention__subcmd__migrate__subcmd__help__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate help apply commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__help__subcmd__help_commands] )) ||
_port-convention__subcmd__migrate__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate help help commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__help__subcmd__plan_commands] )) ||
_port-convention__subcmd__migrate__subcmd__help__subcmd__plan_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate help plan commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__help__subcmd__rollback_commands] )) ||
_port-convention__subcmd__migrate__subcmd__help__subcmd__rollback_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate help rollback commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__help__subcmd__status_commands] )) ||
_port-convention__subcmd__migrate__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate help status commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__plan_commands] )) ||
_port-convention__subcmd__migrate__subcmd__plan_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate plan commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__rollback_commands] )) ||
_port-convention__subcmd__migrate__subcmd__rollback_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate rollback commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__migrate__subcmd__status_commands] )) ||
_port-convention__subcmd__migrate__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention migrate status commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__parse-ports_commands] )) ||
_port-convention__subcmd__parse-ports_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention parse-ports commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__ports_commands] )) ||
_port-convention__subcmd__ports_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention ports commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__projects_commands] )) ||
_port-convention__subcmd__projects_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention projects commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__render_commands] )) ||
_port-convention__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention render commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__scan_commands] )) ||
_port-convention__subcmd__scan_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention scan commands' commands "$@"
}
(( $+functions[_port-convention__subcmd__schema_commands] )) ||
_port-convention__subcmd__schema_commands() {
    local commands; commands=()
    _describe -t commands 'port-convention schema commands' commands "$@"
}

if [ "$funcstack[1]" = "_port-convention" ]; then
    _port-convention "$@"
else
    compdef _port-convention port-convention
fi
