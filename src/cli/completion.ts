/**
 * Shell completion (`cerberus-edge completion bash|zsh|fish`), generated from the command table:
 * commands, sub-commands, options and their fixed values, local files, and secret paths, file
 * paths and SDBs asked of Cerberus through the hidden `cerberus-edge __complete <kind> <word>`
 * (so paths complete wherever the environment's token may list them).
 *
 * @module
 */
import { UsageError } from "./args.ts";
import { COMMANDS, GLOBAL_OPTIONS, GROUPS, SHELLS } from "./commands.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";

const flagsOf = (options: readonly OptionSpec[]) =>
  options.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]).join(" ");
const topWords = () => [...new Set(COMMANDS.map((c) => c.name.split(" ")[0]!))].join(" ");
// Single-quoted for a shell: the table holds no quote, but a stray one must not break the script.
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** The completion script for `shell`. @throws {UsageError} for another shell. */
export function completionScript(shell: string): string {
  if (shell === "bash") return bashScript();
  if (shell === "zsh") {
    return `#compdef cerberus-edge
# zsh runs the bash completion through bashcompinit.
autoload -U +X bashcompinit && bashcompinit
${bashScript()}`;
  }
  if (shell === "fish") return fishScript();
  throw new UsageError(`completion supports ${SHELLS.join(", ")}, not "${shell.slice(0, 40)}"`);
}

function valueOptions(command: CommandSpec | undefined): OptionSpec[] {
  return [...(command?.options ?? []), ...GLOBAL_OPTIONS].filter((o) => o.kind !== "flag");
}

function bashScript(): string {
  const cases = COMMANDS.map((c) => {
    const kinds = (c.argKinds ?? ["word"]).join(" ");
    const skip = valueOptions(c).flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]).join(" ");
    return `    ${quote(c.name)}) opts=${quote(flagsOf(c.options))}; kinds=(${kinds}); takes=${quote(skip)} ;;`;
  });
  const values = [...new Map(COMMANDS.flatMap((c) => valueOptions(c)).map((o) => [o.name, o])).values()].map((o) => {
    const names = [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])].join("|");
    const reply = o.choices
      ? `COMPREPLY=($(compgen -W ${quote(o.choices.join(" "))} -- "$cur"))`
      : o.complete === "file"
      ? `COMPREPLY=($(compgen -f -- "$cur"))`
      : "COMPREPLY=()";
    return `      ${names}) ${reply}; return ;;`;
  });
  const groups = [...GROUPS].map((g) =>
    `    ${g}) COMPREPLY=($(compgen -W ${
      quote(COMMANDS.filter((c) => c.name.startsWith(`${g} `)).map((c) => c.name.slice(g.length + 1)).join(" "))
    } -- "$cur")); return ;;`
  );
  return `# cerberus-edge completion for bash: source <(cerberus-edge completion bash)
_cerberus_edge() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="" w i skip=0 nargs=0 opts="" takes=${quote(flagsOf(valueOptions(undefined)))}
  local -a kinds=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      --) ;;
      --*=*) ;;
      -*) case " $takes " in *" $w "*) skip=1 ;; esac ;;
      *)
        if [[ -z "$cmd" ]]; then
          cmd="$w"
        elif [[ " ${[...GROUPS].join(" ")} " == *" $cmd "* && "$cmd" != *" "* ]]; then
          cmd="$cmd $w"
        else
          ((nargs++))
        fi ;;
    esac
    case "$cmd" in
${cases.join("\n")}
    esac
  done
  if [[ "$prev" == -* && " $takes " == *" $prev "* ]]; then
    case "$prev" in
${values.join("\n")}
    esac
  fi
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${quote(`${topWords()} ${flagsOf(GLOBAL_OPTIONS)}`)} -- "$cur"))
    return
  fi
  case "$cmd" in
${groups.join("\n")}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts ${flagsOf(GLOBAL_OPTIONS)}" -- "$cur"))
    return
  fi
  local kind="\${kinds[nargs]:-\${kinds[\${#kinds[@]}-1]}}"
  case "$kind" in
    secret-path|file-path|sdb)
      local IFS=$'\\n'
      COMPREPLY=($(cerberus-edge __complete "$kind" "$cur" 2>/dev/null))
      compopt -o nospace 2>/dev/null ;;
    local-file) COMPREPLY=($(compgen -f -- "$cur")) ;;
    *) COMPREPLY=() ;;
  esac
}
complete -F _cerberus_edge cerberus-edge
`;
}

function fishScript(): string {
  const lines = [
    "# cerberus-edge completion for fish: cerberus-edge completion fish | source",
    "complete -c cerberus-edge -f",
  ];
  const top = [...new Set(COMMANDS.map((c) => c.name.split(" ")[0]!))];
  for (const word of top) {
    const command = COMMANDS.find((c) => c.name === word);
    const summary = command?.summary ?? `${word} commands`;
    lines.push(`complete -c cerberus-edge -n "__fish_use_subcommand" -a ${word} -d ${quote(summary)}`);
  }
  for (const command of COMMANDS) {
    const words = command.name.split(" ");
    const when = words.length === 2
      ? `__fish_seen_subcommand_from ${words[0]}; and __fish_seen_subcommand_from ${words[1]}`
      : `__fish_seen_subcommand_from ${words[0]}`;
    if (words.length === 2) {
      lines.push(
        `complete -c cerberus-edge -n "__fish_seen_subcommand_from ${words[0]}; and not __fish_seen_subcommand_from ${
          COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `)).map((c) => c.name.split(" ")[1]).join(" ")
        }" -a ${words[1]} -d ${quote(command.summary)}`,
      );
    }
    for (const option of command.options) lines.push(fishOption(option, when));
    const kind = command.argKinds?.[0];
    if (kind === "secret-path" || kind === "file-path" || kind === "sdb") {
      lines.push(
        `complete -c cerberus-edge -n "${when}" -a "(cerberus-edge __complete ${kind} (commandline -ct) 2>/dev/null)"`,
      );
    } else if (command.argKinds?.includes("local-file")) {
      lines.push(`complete -c cerberus-edge -n "${when}" -F`);
    }
  }
  for (const option of GLOBAL_OPTIONS) lines.push(fishOption(option, ""));
  return `${lines.join("\n")}\n`;
}

function fishOption(option: OptionSpec, when: string): string {
  const condition = when ? ` -n "${when}"` : "";
  const short = option.short ? ` -s ${option.short}` : "";
  const value = option.kind === "flag"
    ? ""
    : option.choices
    ? ` -x -a ${quote(option.choices.join(" "))}`
    : option.complete === "file"
    ? " -r -F"
    : " -x";
  return `complete -c cerberus-edge${condition}${short} -l ${option.name}${value} -d ${quote(option.help)}`;
}
