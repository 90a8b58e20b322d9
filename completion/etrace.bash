# bash completion for etrace(1): subcommands, `etrace run` options and
# their values, files where an option takes a file, and after `--` the
# program and its own arguments. Installed by `make install` into
# share/bash-completion/completions/etrace; tests/test_cli.py checks that
# the options here are the ones `etrace run --help` lists.

_etrace_run_opts="--output --format --color --json --html --perfetto --events --record
--report --last --syscalls --all --max-records --string-limit --user --orphans
--buffer-size --rewind --timeout --sched --trace-func --trace-func-force --heap --leaks --show-reachable
--suppressions --gen-suppressions --error-exitcode --system-findings --heap-freed
--heap-backend --heap-check --heap-quarantine --heap-guard-rate --skb --skb-filter --skb-stack --skb-funcs --net-backend
--sarif --junit --github-annotations --source-root --help"

_etrace()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -s || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	if [[ $cword -eq 1 ]]; then
		COMPREPLY=($(compgen -W "run report rewind doctor version help" -- "$cur"))
		return
	fi

	local cmd=${words[1]} i
	# after "--": the program, then whatever it takes
	for ((i = 2; i < cword; i++)); do
		if [[ ${words[i]} == -- ]]; then
			if ((i + 1 == cword)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi
	done

	# an option's value: "--opt=value" or "--opt value"
	local opt=$prev
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		cur=${cur#*=}
	fi
	case $opt in
	-f | --format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
	--color | --github-annotations) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	--report) COMPREPLY=($(compgen -W "always failure never" -- "$cur")); return ;;
	--syscalls) COMPREPLY=($(compgen -W "failing all none" -- "$cur")); return ;;
	--orphans) COMPREPLY=($(compgen -W "leave kill" -- "$cur")); return ;;
	--heap | --sched) COMPREPLY=($(compgen -W "on off" -- "$cur")); return ;;
	--leaks) COMPREPLY=($(compgen -W "full none" -- "$cur")); return ;;
	--heap-backend) COMPREPLY=($(compgen -W "auto preload uprobe" -- "$cur")); return ;;
	--heap-check) COMPREPLY=($(compgen -W "off default all" -- "$cur")); return ;;
	--net-backend) COMPREPLY=($(compgen -W "auto tracepoint kprobe-multi fentry kprobe" -- "$cur")); return ;;
	--at) COMPREPLY=($(compgen -W "crash" -- "$cur")); return ;;
	-u | --user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
	--source-root) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-o | --output | --json | --html | --perfetto | --events | --record | --sarif | --junit | --suppressions)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-n | --last | -s | --string-limit | --max-records | --buffer-size | --rewind | --trace-func | \
	--error-exitcode | --heap-freed | --heap-quarantine | --heap-guard-rate | --skb-filter | --skb-funcs | --window)
		return ;;   # a number, a glob or an expression: nothing to offer
	esac

	case $cmd in
	run)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_etrace_run_opts --" -- "$cur"))
		fi
		;;
	report)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--format --output --html --perfetto --rewind" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		;;
	rewind)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--at --window" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		;;
	esac
}
complete -F _etrace etrace
