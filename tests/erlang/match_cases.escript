#!/usr/bin/env escript
%% -*- erlang -*-
%% tests/erlang/match_cases.escript - checks every case of
%% tests/match_cases.txt against real Erlang, so that the table hive is
%% tested with says what Erlang says.  A developer tool (CI has no Erlang);
%% needs OTP 21 or later.  Run it from the top of the source tree:
%%
%%     escript tests/erlang/match_cases.escript [path/to/match_cases.txt]
%%
%% It prints every case where Erlang disagrees with the table, then a
%% summary, and exits 1 if there was any.
%%
%% How a case becomes Erlang:
%%   - "..." becomes <<"...">>: hive's text makes strings binaries;
%%   - pid and ref literals (<0.1.2>, #Ref<0.1.2.3>), which Erlang source
%%     cannot hold, become variables bound to list_to_pid/list_to_ref of
%%     the text; in a pattern a bound variable compares with =:=, exactly
%%     as the literal would;
%%   - ^Name becomes Name, bound beforehand to the pins column's value;
%%   - erl_eval then evaluates
%%         case Term of Pattern when Guard -> {match, [{'V', V}, ...]};
%%                      _ -> nomatch end
%%     with every variable of the pattern in the list;
%%   - Bin =~ "re" has no guard counterpart (re:run is no guard BIF), so a
%%     case whose guard holds one (or min/max before OTP 26) is matched
%%     without its guard, and the guard is then evaluated test by test,
%%     each in a try (a test that raises is false, as in a guard), with =~
%%     read as is_binary(Bin) andalso re:run(Bin, <<"re">>) =/= nomatch
%%     (re:run alone would also take a char list; hive's =~ holds for
%%     binaries only, and is false, not an error, for anything else).
%% Cases marked '!' (where hive deliberately differs) are skipped.
-mode(compile).

main(Args) ->
    File = case Args of
               [F] -> F;
               [] -> "tests/match_cases.txt"
           end,
    {ok, Text} = file:read_file(File),
    Lines = string:split(binary_to_list(Text), "\n", all),
    Numbered = lists:zip(lists:seq(1, length(Lines)), Lines),
    {Agree, Skipped, Bad} =
        lists:foldl(fun(L, Acc) -> check_line(File, L, Acc) end, {0, 0, 0},
                    Numbered),
    io:format("~s: ~b cases agree with Erlang, ~b hive-only skipped, "
              "~b disagree~n", [File, Agree, Skipped, Bad]),
    halt(case Bad of 0 -> 0; _ -> 1 end).

check_line(File, {N, Raw}, {Agree, Skipped, Bad} = Acc) ->
    case string:trim(Raw, both, " \r") of
        "" -> Acc;
        "%" ++ _ -> Acc;
        "!" ++ _ -> {Agree, Skipped + 1, Bad};
        Line ->
            case check_case(Line) of
                ok ->
                    {Agree + 1, Skipped, Bad};
                {differs, Why} ->
                    io:format("~s:~b: ~s~n    ~s~n", [File, N, Line, Why]),
                    {Agree, Skipped, Bad + 1}
            end
    end.

check_case(Line) ->
    try
        [Pattern, Term, Pins, Expect] =
            [string:trim(F, both, " ") || F <- string:lexemes(Line, "\t")],
        {Lits, Bs0} = literals([Pattern, Term, Pins, Expect]),
        Bs = lists:foldl(fun({K, V}, B) -> erl_eval:add_binding(K, V, B) end,
                         Bs0, named(Pins, Lits, Bs0)),
        Want = expected(Expect, Lits, Bs0),
        Got = run_case(Pattern, Term, Lits, Bs),
        compare(Want, Got)
    catch
        C:R:St -> {differs, io_lib:format("cannot evaluate: ~p:~p ~p",
                                          [C, R, hd(St)])}
    end.

compare(nomatch, nomatch) -> ok;
compare({match, W}, {match, G}) ->
    case lists:keysort(1, W) =:= lists:keysort(1, G) of
        true -> ok;
        false -> differs({match, W}, {match, G})
    end;
compare(W, G) -> differs(W, G).

differs(W, G) ->
    {differs, io_lib:format("Erlang gives ~p, the table expects ~p", [G, W])}.

%% ---- literals Erlang cannot read ----------------------------------------

%% Finds the pid and ref literals of all fields and names a variable for
%% each: {[{Text, VarName}], bindings of those variables}.
literals(Fields) ->
    Re = "#Ref<[0-9.]+>|<[0-9]+[.][0-9]+[.][0-9]+>",
    Found = lists:usort(
              lists:append(
                [case re:run(F, Re, [global, {capture, first, list}]) of
                     {match, Ms} -> [M || [M] <- Ms];
                     nomatch -> []
                 end || F <- Fields])),
    Named = [{Lit, list_to_atom("HvLit__" ++ integer_to_list(I))}
             || {I, Lit} <- lists:zip(lists:seq(1, length(Found)), Found)],
    Bs = lists:foldl(fun({Lit, Var}, B) ->
                             erl_eval:add_binding(Var, literal(Lit), B)
                     end, erl_eval:new_bindings(), Named),
    {Named, Bs}.

literal("#Ref" ++ _ = Lit) -> list_to_ref(Lit);
literal(Lit) -> list_to_pid(Lit).

replace_literals(Text, Lits) ->
    lists:foldl(fun({Lit, Var}, T) ->
                        lists:flatten(string:replace(T, Lit,
                                                     atom_to_list(Var), all))
                end, Text, Lits).

%% Hive text to Erlang tokens: "..." is a binary, ^X is X, and
%% X =~ "re" is X =:= {'$re', <<"re">>}, a marker undone after parsing.
tokens(Text, Lits) ->
    {ok, Toks, _} = erl_scan:string(replace_literals(Text, Lits)),
    hive_tokens(Toks, none).

hive_tokens([{'=', L}, {'~', _}, {string, _, S} | Rest], _) ->
    [{'=:=', L}, {'{', L}, {atom, L, '$re'}, {',', L}, {'<<', L},
     {string, L, S}, {'>>', L}, {'}', L} | hive_tokens(Rest, '}')];
hive_tokens([{'^', _}, {var, _, _} = V | Rest], _) ->
    [V | hive_tokens(Rest, var)];
hive_tokens([{string, L, S} | Rest], Prev) when Prev =/= '<<' ->
    [{'<<', L}, {string, L, S}, {'>>', L} | hive_tokens(Rest, '>>')];
hive_tokens([T | Rest], _) ->
    [T | hive_tokens(Rest, element(1, T))];
hive_tokens([], _) ->
    [].

%% ---- the columns --------------------------------------------------------

%% "Name = term, ..." as [{Name, Value}]; "-" and "match" hold none.
named("-", _, _) -> [];
named("match", _, _) -> [];
named(Text, Lits, Bs) ->
    {ok, Exprs} = erl_parse:parse_exprs(tokens(Text, Lits) ++ [{dot, 1}]),
    [begin
         {value, V, _} = erl_eval:expr(E, Bs),
         {Name, V}
     end || {match, _, {var, _, Name}, E} <- Exprs].

expected("nomatch", _, _) -> nomatch;
expected(Text, Lits, Bs) -> {match, named(Text, Lits, Bs)}.

%% The pattern's variables in order of first appearance: not `_`, not
%% pins, not the literals' stand-ins.
pattern_vars(Toks) ->
    Vars = pattern_vars(Toks, none, []),
    lists:reverse(lists:foldl(fun(V, Acc) ->
                                      case lists:member(V, Acc) of
                                          true -> Acc;
                                          false -> [V | Acc]
                                      end
                              end, [], Vars)).

pattern_vars([{var, _, V} | Rest], Prev, Acc) ->
    Lit = lists:prefix("HvLit__", atom_to_list(V)),
    Skip = V =:= '_' orelse Prev =:= '^' orelse Lit,
    pattern_vars(Rest, var, case Skip of true -> Acc; false -> Acc ++ [V] end);
pattern_vars([T | Rest], _, Acc) ->
    pattern_vars(Rest, element(1, T), Acc);
pattern_vars([], _, Acc) ->
    Acc.

%% ---- matching ----------------------------------------------------------

run_case(Pattern, Term, Lits, Bs) ->
    {ok, Raw, _} = erl_scan:string(replace_literals(Pattern, Lits)),
    Head = lists:takewhile(fun(T) -> element(1, T) =/= 'when' end, Raw),
    Vars = pattern_vars(Head),
    Result = lists:flatten(
               ["-> {match, [",
                lists:join(", ", [io_lib:format("{'~s', ~s}", [V, V])
                                  || V <- Vars]),
                "]}; _ -> nomatch end."]),
    {ok, Tail, _} = erl_scan:string(Result),
    {ok, Case, _} = erl_scan:string("case "),
    {ok, Of, _} = erl_scan:string(" of "),
    Toks = Case ++ tokens(Term, Lits) ++ Of ++ tokens(Pattern, Lits) ++ Tail,
    {ok, [{'case', A, E, [{clause, CA, Ps, Guard, Body} | More]}]} =
        erl_parse:parse_exprs(Toks),
    case has_regex(Guard) orelse not all_guard_tests(Guard) of
        false ->
            {value, V, _} = erl_eval:expr({'case', A, E,
                                           [{clause, CA, Ps, Guard, Body}
                                            | More]}, Bs),
            V;
        true ->
            Unguarded = {'case', A, E, [{clause, CA, Ps, [], Body} | More]},
            case erl_eval:expr(Unguarded, Bs) of
                {value, nomatch, _} -> nomatch;
                {value, {match, Bound} = M, _} ->
                    Bs1 = lists:foldl(fun({K, V}, B) ->
                                              erl_eval:add_binding(K, V, B)
                                      end, Bs, Bound),
                    case guard_holds(regex_calls(Guard), Bs1) of
                        true -> M;
                        false -> nomatch
                    end
            end
    end.

%% min/max are guard BIFs only since OTP 26: on an older Erlang a guard
%% calling them is evaluated test by test like one holding =~.
all_guard_tests(Guard) ->
    lists:all(fun erl_lint:is_guard_test/1, lists:append(Guard)).

has_regex({atom, _, '$re'}) -> true;
has_regex(T) when is_tuple(T) -> has_regex(tuple_to_list(T));
has_regex(L) when is_list(L) -> lists:any(fun has_regex/1, L);
has_regex(_) -> false.

regex_calls({op, L, '=:=', Bin0, {tuple, _, [{atom, _, '$re'}, Re]}}) ->
    Bin = regex_calls(Bin0),
    Run = {call, L, {remote, L, {atom, L, re}, {atom, L, run}}, [Bin, Re]},
    {op, L, 'andalso', {call, L, {atom, L, is_binary}, [Bin]},
     {op, L, '=/=', Run, {atom, L, nomatch}}};
regex_calls(T) when is_tuple(T) ->
    list_to_tuple([regex_calls(E) || E <- tuple_to_list(T)]);
regex_calls(L) when is_list(L) ->
    [regex_calls(E) || E <- L];
regex_calls(X) ->
    X.

%% A guard sequence: some alternative whose tests all give true; a test
%% that raises gives false, as Erlang's guards do.
guard_holds(Alternatives, Bs) ->
    lists:any(fun(Tests) ->
                      lists:all(fun(T) -> test_holds(T, Bs) end, Tests)
              end, Alternatives).

test_holds(Test, Bs) ->
    try erl_eval:expr(Test, Bs) of
        {value, true, _} -> true;
        _ -> false
    catch
        _:_ -> false
    end.
