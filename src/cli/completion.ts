/**
 * Shell completion (`cerberus-edge completion bash|zsh|fish`), generated from the command table:
 * commands, sub-commands, options and their fixed values, local files, and secret paths, file
 * paths and SDBs asked of Cerberus through the hidden `cerberus-edge __complete <kind> <word>`
 * (so paths complete wherever the environment's token may list them).
 *
 * @module
 */
import { UsageError } from "./args.ts";
import { COMMANDS, GLOBAL_OPTIONS, GROUPS, SHELLS, subcommandsOf } from "./commands.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";

/** An option's spellings: `--name`, and `-x` when it has a short form. */
const namesOf = (o: OptionSpec) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])];
const flagsOf = (options: readonly OptionSpec[]) => options.flatMap(namesOf).join(" ");
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

/** A command's options and the global ones it does not shadow (write's `--json` reads a file). */
function optionsOf(command: CommandSpec): OptionSpec[] {
  return [...command.options, ...GLOBAL_OPTIONS.filter((g) => !command.options.some((o) => o.name === g.name))];
}

function bashScript(): string {
  const cases = COMMANDS.map((c) => {
    const kinds = (c.argKinds ?? ["word"]).join(" ");
    return `    ${quote(c.name)}) opts=${quote(flagsOf(optionsOf(c)))}; kinds=(${kinds}); takes=${
      quote(flagsOf(valueOptions(c)))
    } ;;`;
  });
  const files = `local IFS=$'\\n'; COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null`;
  const values = [...new Map(COMMANDS.flatMap((c) => valueOptions(c)).map((o) => [o.name, o])).values()].map((o) => {
    const names = namesOf(o).join("|");
    const reply = o.choices
      ? `COMPREPLY=($(compgen -W ${quote(o.choices.join(" "))} -- "$cur"))`
      : o.complete === "file"
      ? files
      : "COMPREPLY=()";
    return `      ${names}) ${reply} ;;`;
  });
  const groups = [...GROUPS].map((g) =>
    `    ${g}) COMPREPLY=($(compgen -W ${quote(subcommandsOf(g).join(" "))} -- "$cur")); return 0 ;;`
  );
  return `# cerberus-edge completion for bash: source <(cerberus-edge completion bash)
_cerberus_edge() {
  # The words as typed: bash also splits COMP_WORDS at "=" and ":" (COMP_WORDBREAKS), so a word
  # that follows the previous one with no space between is joined back to it.
  local line="\${COMP_LINE:0:COMP_POINT}" word="\${COMP_WORDS[COMP_CWORD]}" rest trimmed pos=0 gap i
  local -a words=() kinds=()
  for ((i = 0; i <= COMP_CWORD; i++)); do
    rest="\${line:pos}"
    trimmed="\${rest#"\${rest%%[![:space:]]*}"}"
    gap=$((\${#rest} - \${#trimmed}))
    if ((i > 0 && gap == 0)); then words[\${#words[@]}-1]+="\${COMP_WORDS[i]}"; else words+=("\${COMP_WORDS[i]}"); fi
    pos=$((pos + gap + \${#COMP_WORDS[i]}))
  done
  local cur="\${words[\${#words[@]}-1]}" prev="" value="" cmd="" w skip=0 nargs=0 opts=""
  local takes=${quote(flagsOf(valueOptions(undefined)))}
  ((\${#words[@]} > 1)) && prev="\${words[\${#words[@]}-2]}"
  if [[ "$cur" == --*=* ]]; then prev="\${cur%%=*}"; value="$prev="; cur="\${cur#*=}"; fi
  for ((i = 1; i < \${#words[@]} - 1; i++)); do
    w="\${words[i]}"
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
  if [[ -n "$value" || ( "$prev" == -* && " $takes " == *" $prev "* ) ]]; then
    case "$prev" in
${values.join("\n")}
      *) COMPREPLY=() ;;
    esac
    # Where "=" does not break words, the word is the whole --option=value.
    [[ -n "$value" && "$word" == "$value"* ]] && COMPREPLY=("\${COMPREPLY[@]/#/$value}")
    return 0
  fi
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${quote(`${topWords()} ${flagsOf(GLOBAL_OPTIONS)}`)} -- "$cur"))
    return 0
  fi
  case "$cmd" in
${groups.join("\n")}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return 0
  fi
  ((\${#kinds[@]})) || return 0
  local kind="\${kinds[nargs]:-\${kinds[\${#kinds[@]}-1]}}"
  case "$kind" in
    secret-path|file-path|sdb)
      local IFS=$'\\n'
      COMPREPLY=($(cerberus-edge __complete "$kind" "$cur" 2>/dev/null))
      compopt -o nospace 2>/dev/null ;;
    local-file) ${files} ;;
    *) COMPREPLY=() ;;
  esac
}
complete -F _cerberus_edge cerberus-edge
`;
}

function fishScript(): string {
  const takes = [
    ...new Set(
      COMMANDS.flatMap((c) => valueOptions(c)).flatMap(namesOf),
    ),
  ];
  const lines = [
    "# cerberus-edge completion for fish: cerberus-edge completion fish | source",
    "complete -c cerberus-edge -f",
    // True when the command typed so far (`file get`; none before one) is the arguments.
    "function __cerberus_edge_is",
    "    set -l words (commandline -opc)",
    "    set -l command",
    "    set -l skip 0",
    "    for word in $words[2..-1]",
    "        if test $skip -eq 1",
    "            set skip 0",
    "            continue",
    "        end",
    "        switch $word",
    `            case ${takes}`,
    "                set skip 1",
    "            case '-*'",
    "            case '*'",
    "                set -a command $word",
    `                if not contains -- $command[1] ${[...GROUPS].join(" ")}; or test (count $command) -ge 2`,
    "                    break",
    "                end",
    "        end",
    "    end",
    '    test "$command" = "$argv"',
    "end",
  ];
  const is = (name: string) => `__cerberus_edge_is ${name}`;
  for (const word of new Set(COMMANDS.map((c) => c.name.split(" ")[0]!))) {
    const summary = COMMANDS.find((c) => c.name === word)?.summary ?? `${word} commands`;
    lines.push(`complete -c cerberus-edge -n __cerberus_edge_is -a ${word} -d ${quote(summary)}`);
  }
  for (const command of COMMANDS) {
    const words = command.name.split(" ");
    if (words.length === 2) {
      lines.push(`complete -c cerberus-edge -n ${quote(is(words[0]!))} -a ${words[1]} -d ${quote(command.summary)}`);
    }
    const when = quote(is(command.name));
    for (const option of optionsOf(command)) lines.push(fishOption(option, when));
    const kind = command.argKinds?.[0];
    if (kind === "secret-path" || kind === "file-path" || kind === "sdb") {
      lines.push(
        `complete -c cerberus-edge -n ${when} -a "(cerberus-edge __complete ${kind} (commandline -ct) 2>/dev/null)"`,
      );
    }
    if (command.argKinds?.includes("local-file")) lines.push(`complete -c cerberus-edge -n ${when} -F`);
  }
  for (const option of GLOBAL_OPTIONS) lines.push(fishOption(option, "__cerberus_edge_is"));
  return `${lines.join("\n")}\n`;
}

function fishOption(option: OptionSpec, when: string): string {
  const condition = ` -n ${when}`;
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
