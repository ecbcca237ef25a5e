# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_port_convention_global_optspecs
    string join \n h/help V/version
end

function __fish_port_convention_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_port_convention_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_port_convention_using_subcommand
    set -l cmd (__fish_port_convention_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c port-convention -n "__fish_port_convention_needs_command" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_needs_command" -s V -l version -d 'Print version'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "schema" -d 'Print the JSON Schema of ports.yaml (for editors)'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "parse-ports" -d 'Parse compose port specs and print one JSON object per spec'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "allocate" -d 'Print the lowest free ports of a named range, one a line'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "check" -d 'Check the repository (every compose and .env file) and the convention'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "scan" -d 'List every published host port, sorted, with its owner and source'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "projects" -d 'List the compose projects of the tree (what each `docker compose` invocation loads), their files, profiles and ports'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "completions" -d 'Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell)'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "man" -d 'Print the manual page (roff), generated from this command line'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "ports" -d 'What holds each port on this machine (--live), with the convention\'s view'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "migrate" -d 'Move services to their assigned ports across compose and .env files, safely (plan, apply, rollback, status)'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "render" -d 'Render a file from ports.yaml (markdown, svg, env, env-example, prometheus-targets, prometheus-rules, grafana); --check: exit 1 with a diff when the file is stale'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "init" -d 'Write a first ports.yaml describing the tree as it is; with --protect, move database-like services into a protected range'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "assign" -d 'Give a service the next free port of a range, editing ports.yaml in place (comments and order kept)'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "explain" -d 'Print a rule\'s documentation (summary, severity, subject, why it matters, how to fix it, an example); without RULE, list every rule'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "mcp" -d 'Serve the convention to assistants: a Model Context Protocol server on stdin/stdout whose tools answer what check, scan, explain, allocate and migrate plan answer (read-only)'
complete -c port-convention -n "__fish_port_convention_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c port-convention -n "__fish_port_convention_using_subcommand schema" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand parse-ports" -l env -d 'A variable for interpolating the specs (repeatable). Only these are used: the process environment is not, so output is reproducible' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand parse-ports" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand allocate" -s c -l convention -d 'The convention file (default: ports.yaml in the scanned directory or a parent)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand allocate" -l env-file -d 'Interpolation variables from this file instead of each project\'s .env (repeatable; later files win; the process environment wins over all)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand allocate" -l count -d 'How many ports' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand allocate" -l format -d 'Output format: one port a line, or JSON ({"range", "ports"})' -r -f -a "text\t'Plain text'
json\t'JSON'"
complete -c port-convention -n "__fish_port_convention_using_subcommand allocate" -l live -d 'Also skip ports held on this machine right now (sockets, containers)'
complete -c port-convention -n "__fish_port_convention_using_subcommand allocate" -l explain -d 'Say on stderr why each port below the last one given was skipped'
complete -c port-convention -n "__fish_port_convention_using_subcommand allocate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand check" -s c -l convention -d 'The convention file (default: ports.yaml in the scanned directory or a parent)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand check" -l env-file -d 'Interpolation variables from this file instead of each project\'s .env (repeatable; later files win; the process environment wins over all)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand check" -l format -d 'Output format' -r -f -a "human\t'Grouped by file, with source lines and carets'
json\t'The versioned JSON contract (docs/json-output.md)'
sarif\t'SARIF 2.1.0'
github\t'GitHub Actions workflow annotations'
openmetrics\t'Metrics for node_exporter\'s textfile collector (OpenMetrics text)'
gitlab\t'GitLab CI code quality report (JSON)'"
complete -c port-convention -n "__fish_port_convention_using_subcommand check" -l color -d 'When to colour human output (auto: on a terminal, unless NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c port-convention -n "__fish_port_convention_using_subcommand check" -l only -d 'With --live: only findings about these compose services (a preflight before `docker compose up SERVICE...`)' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand check" -l convention-only -d 'Only validate ports.yaml itself; read no compose or .env file'
complete -c port-convention -n "__fish_port_convention_using_subcommand check" -l live -d 'Also check this machine: sockets and containers holding the ports (live-* rules)'
complete -c port-convention -n "__fish_port_convention_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand scan" -s c -l convention -d 'The convention file (default: ports.yaml in the scanned directory or a parent)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand scan" -l env-file -d 'Interpolation variables from this file instead of each project\'s .env (repeatable; later files win; the process environment wins over all)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand scan" -l format -d 'Output format' -r -f -a "table\t'Aligned columns'
json\t'Versioned JSON: `{"version": 1, "ports": [...]}` (docs/json-output.md)'
csv\t'Comma-separated values with a header row'"
complete -c port-convention -n "__fish_port_convention_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand projects" -s c -l convention -d 'The convention file (default: ports.yaml in the scanned directory or a parent)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand projects" -l env-file -d 'Interpolation variables from this file instead of each project\'s .env (repeatable; later files win; the process environment wins over all)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand projects" -l format -d 'Output format' -r -f -a "table\t'One block per project'
json\t'The versioned JSON shape (docs/json-output.md)'"
complete -c port-convention -n "__fish_port_convention_using_subcommand projects" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand completions" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand man" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand ports" -s c -l convention -d 'The convention file (default: ports.yaml here or in a parent directory; none found: no annotation)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand ports" -l format -d 'Output format' -r -f -a "table\t'Aligned columns'
json\t'One JSON object (`schema`, `version`, `ports`, `containers`, `notes`)'"
complete -c port-convention -n "__fish_port_convention_using_subcommand ports" -l live -d 'Read this machine: listening TCP and bound UDP sockets with their processes, and the containers of the Docker (or podman) daemon'
complete -c port-convention -n "__fish_port_convention_using_subcommand ports" -l no-docker -d 'Don\'t ask a container engine; sockets only'
complete -c port-convention -n "__fish_port_convention_using_subcommand ports" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and not __fish_seen_subcommand_from plan apply rollback status help" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and not __fish_seen_subcommand_from plan apply rollback status help" -f -a "plan" -d 'Compute every edit that moves the convention\'s services to their assigned ports; write nothing; print a unified diff'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and not __fish_seen_subcommand_from plan apply rollback status help" -f -a "apply" -d 'Apply a saved plan (or plan and apply in one go): pre-flight checks, backup, journal, atomic writes, re-scan. Resumes an interrupted migration'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and not __fish_seen_subcommand_from plan apply rollback status help" -f -a "rollback" -d 'Restore every file of a migration from its backup, byte for byte'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and not __fish_seen_subcommand_from plan apply rollback status help" -f -a "status" -d 'Say whether the last migration is complete, interrupted or rolled back'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and not __fish_seen_subcommand_from plan apply rollback status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -s c -l convention -d 'The convention file (default: ports.yaml in the scanned directory or a parent)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -l map -d 'Also move .env values equal to OLD of the variables of the service assigned NEW (repeatable), beyond the convention\'s `legacy:` ports' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -l out -d 'Save the plan (with the SHA-256 of every file it would touch) here' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -l format -d 'Output format' -r -f -a "human\t'A summary and a unified diff'
json\t'The plan as JSON (the same as --out writes)'"
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -l color -d 'When to colour the diff (auto: on a terminal, unless NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -l use-env-vars -d 'Turn literal mappings into ${VAR:-port} with the convention\'s variable (adding VAR=port to the project\'s .env files) and rename variables that differ from the convention\'s'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -l rename-vars -d 'Rename variables that differ from the convention\'s, in compose and the project\'s .env files alike'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -l source -d 'Also move stale port literals of source and configuration files (findings of rule stale-port) to their new ports'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from apply" -s c -l convention -d 'The convention file (default: ports.yaml in the scanned directory or a parent)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l map -d 'Also move .env values equal to OLD of the variables of the service assigned NEW (repeatable), beyond the convention\'s `legacy:` ports' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l root -d 'Apply the plan in DIR instead of the directory it names (a plan file is not trusted to choose where it writes)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l use-env-vars -d 'Turn literal mappings into ${VAR:-port} with the convention\'s variable (adding VAR=port to the project\'s .env files) and rename variables that differ from the convention\'s'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l rename-vars -d 'Rename variables that differ from the convention\'s, in compose and the project\'s .env files alike'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l source -d 'Also move stale port literals of source and configuration files (findings of rule stale-port) to their new ports'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from apply" -l skip-port-check -d 'Do not refuse when a target port is listening on this machine (tests, CI)'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from rollback" -l root -d 'The migrated directory, with an id as BACKUP (same as giving the directory as PATH)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from rollback" -s c -l convention -d 'The convention file used to find the default root' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from rollback" -l force -d 'Restore files even if they changed since the migration wrote them'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from rollback" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from status" -l root -d 'The migrated directory (same as PATH)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from status" -s c -l convention -d 'The convention file used to find the default root' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from status" -l format -d 'Output format' -r -f -a "human\t'Sentences'
json\t'JSON'"
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Compute every edit that moves the convention\'s services to their assigned ports; write nothing; print a unified diff'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Apply a saved plan (or plan and apply in one go): pre-flight checks, backup, journal, atomic writes, re-scan. Resumes an interrupted migration'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "rollback" -d 'Restore every file of a migration from its backup, byte for byte'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "status" -d 'Say whether the last migration is complete, interrupted or rolled back'
complete -c port-convention -n "__fish_port_convention_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c port-convention -n "__fish_port_convention_using_subcommand render" -s c -l convention -d 'The convention file (default: ports.yaml here or in a parent directory)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand render" -l out -d 'Write to FILE (atomically) instead of standard output' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand render" -l check -d 'Exit 1 with a unified diff when FILE is not what would be rendered (missing or stale); write nothing' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand init" -l protect -d 'Declare a protected range NAME=START-END (repeatable); the first one gets sub-ranges and every database-like service moves into it' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand init" -l out -d 'Where to write the convention (default: PATH/ports.yaml); must be inside PATH' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand init" -l name -d 'The convention\'s name (default: the root directory\'s name)' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand init" -l format -d 'Format of the summary' -r -f -a "table\t'A table: service, port, kind, old -> new, variable'
json\t'`{ "file", "rows", "notes" }`'"
complete -c port-convention -n "__fish_port_convention_using_subcommand init" -l force -d 'Replace an existing file at --out'
complete -c port-convention -n "__fish_port_convention_using_subcommand init" -l stdout -d 'Print the convention instead of writing it'
complete -c port-convention -n "__fish_port_convention_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand assign" -l range -d 'The range (by name, as declared in ports.yaml) to take the port from' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand assign" -l port-name -d 'Only this port of the service (default: every port not in the range)' -r
complete -c port-convention -n "__fish_port_convention_using_subcommand assign" -s c -l convention -d 'The convention file (default: ports.yaml here or in a parent directory)' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand assign" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand explain" -l format -d 'Output format: text, or JSON (the rule\'s documentation as data; without RULE, every rule\'s)' -r -f -a "text\t'Plain text'
json\t'JSON'"
complete -c port-convention -n "__fish_port_convention_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c port-convention -n "__fish_port_convention_using_subcommand mcp" -l root -d 'The directory the server answers for (default: the current directory). Every path a tool is given, and every ports.yaml found for it, must resolve inside it; relative paths are taken from it' -r -F
complete -c port-convention -n "__fish_port_convention_using_subcommand mcp" -s h -l help -d 'Print help'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "schema" -d 'Print the JSON Schema of ports.yaml (for editors)'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "parse-ports" -d 'Parse compose port specs and print one JSON object per spec'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "allocate" -d 'Print the lowest free ports of a named range, one a line'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "check" -d 'Check the repository (every compose and .env file) and the convention'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "scan" -d 'List every published host port, sorted, with its owner and source'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "projects" -d 'List the compose projects of the tree (what each `docker compose` invocation loads), their files, profiles and ports'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "completions" -d 'Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell)'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "man" -d 'Print the manual page (roff), generated from this command line'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "ports" -d 'What holds each port on this machine (--live), with the convention\'s view'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "migrate" -d 'Move services to their assigned ports across compose and .env files, safely (plan, apply, rollback, status)'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "render" -d 'Render a file from ports.yaml (markdown, svg, env, env-example, prometheus-targets, prometheus-rules, grafana); --check: exit 1 with a diff when the file is stale'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "init" -d 'Write a first ports.yaml describing the tree as it is; with --protect, move database-like services into a protected range'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "assign" -d 'Give a service the next free port of a range, editing ports.yaml in place (comments and order kept)'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "explain" -d 'Print a rule\'s documentation (summary, severity, subject, why it matters, how to fix it, an example); without RULE, list every rule'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "mcp" -d 'Serve the convention to assistants: a Model Context Protocol server on stdin/stdout whose tools answer what check, scan, explain, allocate and migrate plan answer (read-only)'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and not __fish_seen_subcommand_from schema parse-ports allocate check scan projects completions man ports migrate render init assign explain mcp help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "plan" -d 'Compute every edit that moves the convention\'s services to their assigned ports; write nothing; print a unified diff'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "apply" -d 'Apply a saved plan (or plan and apply in one go): pre-flight checks, backup, journal, atomic writes, re-scan. Resumes an interrupted migration'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "rollback" -d 'Restore every file of a migration from its backup, byte for byte'
complete -c port-convention -n "__fish_port_convention_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "status" -d 'Say whether the last migration is complete, interrupted or rolled back'
