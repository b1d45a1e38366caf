%% bench/erlang/terms_bench.erl - the message mix of bench/terms.c in
%% Erlang/OTP: build, term_to_binary, binary_to_term, printed in the
%% peers' line format with impl=erlang, so hive's codec has a BEAM
%% figure from the same machine and run.  Run by bench/erlang/run.
-module(terms_bench).
-export([main/1]).

msg(I, V64) ->
    Pid = self(),
    case I rem 6 of
        0 -> {call, Pid, make_ref(), {get, <<"user:123">>}};
        1 -> {cast, {put, <<"k">>, V64}};
        2 -> {'$gen_call', {Pid, make_ref()}, {deposit, 100}};
        3 -> {reply, make_ref(), {ok, #{name => <<"x">>, age => 42, tags => [a, b, c]}}};
        4 -> {'EXIT', Pid, normal};
        _ -> {event, 1700000000123, 3.14, [1, 2, 3, 4, 5]}
    end.

now_ns() -> erlang:monotonic_time(nanosecond).

line(Name, N, Ns, Extra) ->
    io:format("bench=~s impl=erlang n=~b wall_s=~.6f per_op_ns=~.1f extra=~s~n",
              [Name, N, Ns / 1.0e9, Ns / N, Extra]).

%% Every loop folds its results into an accumulator that is returned:
%% the compiler drops calls to pure BIFs whose results are unused.
loop_all(0, _V, A) -> A;
loop_all(I, V, A) ->
    B = term_to_binary(msg(I, V)),
    loop_all(I - 1, V, A + tuple_size(binary_to_term(B))).

loop_build(0, _V, A) -> A;
loop_build(I, V, A) -> loop_build(I - 1, V, A + tuple_size(msg(I, V))).

loop_enc(0, _Ms, A) -> A;
loop_enc(I, Ms, A) ->
    loop_enc(I - 1, Ms, A + byte_size(term_to_binary(element(I rem 6 + 1, Ms)))).

loop_dec(0, _Bs, A) -> A;
loop_dec(I, Bs, A) ->
    loop_dec(I - 1, Bs, A + tuple_size(binary_to_term(element(I rem 6 + 1, Bs)))).

timed(F) ->
    T0 = now_ns(),
    Acc = F(),
    T = now_ns() - T0,
    Acc > 0 orelse halt(1),
    T.

main(Args) ->
    N = case Args of [S | _] -> list_to_integer(S); [] -> 2000000 end,
    V64 = binary:copy(<<"v">>, 64),
    Ms = list_to_tuple([msg(I, V64) || I <- lists:seq(0, 5)]),
    Bs = list_to_tuple([term_to_binary(M) || M <- tuple_to_list(Ms)]),
    Bytes = lists:sum([byte_size(B) || B <- tuple_to_list(Bs)]) / 6,
    Extra = io_lib:format("bytes_per_msg:~.1f,kinds:6,codec:external_term_format", [Bytes]),
    loop_all(N div 10, V64, 0),
    line("terms_build_pack_unpack", N, timed(fun() -> loop_all(N, V64, 0) end), Extra),
    line("terms_build", N, timed(fun() -> loop_build(N, V64, 0) end), Extra),
    line("terms_pack", N, timed(fun() -> loop_enc(N, Ms, 0) end), Extra),
    line("terms_unpack", N, timed(fun() -> loop_dec(N, Bs, 0) end), Extra),
    halt(0).
