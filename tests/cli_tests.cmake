# cli_tests.cmake - ctest entries that run the built `swacl` command.
#
# This file has two roles:
#   1. included from tests/CMakeLists.txt: registers the tests;
#   2. run as a script (cmake -P cli_tests.cmake -DEXE=... ): executes one
#      command and checks its exit code, stdout and stderr. ctest alone can
#      check either the exit code or a regex, not both; this does both.
#
# Script variables: EXE, ARGS (';'-list), EXPECT_RC, OUT_REGEX, ERR_REGEX,
# JSON_OK (1: stdout must be one JSON object whose "ok" is true), VMEM_KB
# (run under `ulimit -v`: fails an allocation made before a size check).
# A command expected to succeed that fails only because no OpenCL device is
# present prints SWACL_SKIP (the test is skipped), unless
# SWACL_REQUIRE_DEVICE=1.

if(CMAKE_SCRIPT_MODE_FILE)
  # ---- script mode: run one command -------------------------------------
  if(DEFINED VMEM_KB) # a memory cap: a size check must come before the allocation
    set(EXE sh -c "ulimit -v ${VMEM_KB} && exec \"\$0\" \"\$@\"" ${EXE})
  endif()
  execute_process(COMMAND ${EXE} ${ARGS}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  # Sanitizer builds: LeakSanitizer's own tracer sometimes crashes while
  # stopping PoCL's worker threads ("Tracer caught signal 11 ... LeakSanitizer
  # has encountered a fatal error"), seen only under load. That is a failure
  # of the checker, not a leak (a leak prints "detected memory leaks"), so the
  # command is run once more; a second failure of any kind stands.
  if(err MATCHES "LeakSanitizer has encountered a fatal error" AND NOT err MATCHES "detected memory leaks")
    message("note: LeakSanitizer tracer crashed (not a leak report); running the command again")
    execute_process(COMMAND ${EXE} ${ARGS}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  endif()
  string(REPLACE ";" " " shown "${ARGS}")
  message("command: swacl ${shown}\nexit: ${rc}\n--- stdout ---\n${out}--- stderr ---\n${err}")
  if(NOT rc STREQUAL "${EXPECT_RC}")
    if(EXPECT_RC STREQUAL "0" AND err MATCHES "no such device|no OpenCL"
       AND NOT "$ENV{SWACL_REQUIRE_DEVICE}" STREQUAL "1")
      message("SWACL_SKIP: no OpenCL device (set SWACL_REQUIRE_DEVICE=1 to fail instead)")
      return()
    endif()
    message(FATAL_ERROR "exit code ${rc}, expected ${EXPECT_RC}")
  endif()
  if(DEFINED OUT_REGEX AND NOT out MATCHES "${OUT_REGEX}")
    message(FATAL_ERROR "stdout does not match '${OUT_REGEX}'")
  endif()
  if(DEFINED ERR_REGEX AND NOT err MATCHES "${ERR_REGEX}")
    message(FATAL_ERROR "stderr does not match '${ERR_REGEX}'")
  endif()
  if(JSON_OK OR DEFINED JSON_KEY)
    # exactly one JSON object on stdout (string(JSON) fails on trailing junk)
    if(NOT out MATCHES "^[ \t\r\n]*{.*}[ \t\r\n]*$")
      message(FATAL_ERROR "stdout is not one JSON object")
    endif()
    if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
      string(JSON kind ERROR_VARIABLE jerr TYPE "${out}")
      if(jerr OR NOT kind STREQUAL "OBJECT")
        message(FATAL_ERROR "stdout is not valid JSON: ${jerr}")
      endif()
      if(DEFINED JSON_KEY)
        string(JSON v ERROR_VARIABLE jerr TYPE "${out}" ${JSON_KEY})
        if(jerr)
          message(FATAL_ERROR "JSON has no key '${JSON_KEY}': ${jerr}")
        endif()
      endif()
      if(JSON_OK)
        string(JSON ok ERROR_VARIABLE jerr GET "${out}" ok)
        if(jerr OR NOT ok)
          message(FATAL_ERROR "JSON \"ok\" is not true (${ok}${jerr})")
        endif()
      endif()
    endif()
  endif()
  return()
endif()

# ---- include mode: register the tests -------------------------------------
set(SWACL_CLI_SCRIPT ${CMAKE_CURRENT_LIST_FILE})
# Fresh caches under the build dir, so tests never touch ~/.cache.
set(SWACL_CLI_ENV
    "SWACL_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache/swacl"
    "POCL_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache/pocl"
    "XDG_CACHE_HOME=${CMAKE_BINARY_DIR}/test-cache/xdg")

# Regexes must not contain an unbalanced "[" (it breaks CMake list splitting).
# swacl_cli_test(NAME RC <code> ARGS <args...> [OUT regex] [ERR regex] [JSON_OK] [JSON_KEY key])
function(swacl_cli_test name)
  cmake_parse_arguments(T "JSON_OK" "RC;OUT;ERR;JSON_KEY;TIMEOUT;VMEM_KB" "ARGS" ${ARGN})
  string(REPLACE ";" "\\;" args "${T_ARGS}")
  set(cmd ${CMAKE_COMMAND} "-DEXE=$<TARGET_FILE:swacl>" "-DARGS=${args}" "-DEXPECT_RC=${T_RC}")
  if(DEFINED T_OUT)
    list(APPEND cmd "-DOUT_REGEX=${T_OUT}")
  endif()
  if(DEFINED T_ERR)
    list(APPEND cmd "-DERR_REGEX=${T_ERR}")
  endif()
  if(T_JSON_OK)
    list(APPEND cmd "-DJSON_OK=1")
  endif()
  if(DEFINED T_JSON_KEY)
    list(APPEND cmd "-DJSON_KEY=${T_JSON_KEY}")
  endif()
  # the address-space cap cannot apply under ASan, which reserves terabytes of
  # shadow memory at start-up; there the test still checks the exit code and
  # the message (the size check before allocating is what they exercise)
  if(DEFINED T_VMEM_KB AND NOT SWACL_SANITIZE)
    list(APPEND cmd "-DVMEM_KB=${T_VMEM_KB}")
  endif()
  list(APPEND cmd -P ${SWACL_CLI_SCRIPT})
  add_test(NAME cli_${name} COMMAND ${cmd})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set_tests_properties(cli_${name} PROPERTIES ENVIRONMENT "${SWACL_CLI_ENV}"
                       SKIP_REGULAR_EXPRESSION "SWACL_SKIP" TIMEOUT ${T_TIMEOUT})
endfunction()

# help, version
swacl_cli_test(help RC 0 ARGS --help OUT "usage: swacl")
swacl_cli_test(run_help RC 0 ARGS run --help OUT "--preset.*rnope-swa")
swacl_cli_test(devices_help RC 0 ARGS devices --help OUT "usage: swacl devices")
swacl_cli_test(version RC 0 ARGS --version OUT "swacl [0-9]+\\.[0-9]+\\.[0-9]+")
swacl_cli_test(models RC 0 ARGS models OUT "model_type +maps +refuses.*cohere2")
swacl_cli_test(models_json RC 0 ARGS models --json JSON_KEY models)

# devices
swacl_cli_test(devices RC 0 ARGS devices)
swacl_cli_test(devices_json RC 0 ARGS devices --json OUT "\"devices\":" JSON_KEY devices)

# run: every preset on the default device, checked against the reference
foreach(preset rnope-swa swan cohere2 irope irope-llama4 baseline)
  swacl_cli_test(run_${preset} RC 0 ARGS run --preset ${preset} --seq 64 --json -q
                 OUT "\"ok\":[ ]*true" JSON_OK)
endforeach()
# windows that bind (T > W), batch > 1, table output, the reference itself
swacl_cli_test(run_window_binds RC 0 ARGS run --preset swan --seq 48 --window 16 --batch 2 --json -q
               OUT "\"ok\":[ ]*true" JSON_OK)
swacl_cli_test(run_overrides RC 0
               ARGS run --preset cohere2 --seq 40 --layers 5 --hidden 128 --heads 4 --kv-heads 2 --window 8 --json -q
               OUT "\"ok\":[ ]*true" JSON_OK)
swacl_cli_test(run_table RC 0 ARGS run --seq 32 --window 8 OUT "nmse.*ok +yes")
swacl_cli_test(run_ref_no_verify RC 0 ARGS run --device ref --seq 16 --no-verify --json -q
               OUT "\"ok\":[ ]*true")

# error paths: exit code and a one-line message naming the problem
swacl_cli_test(err_no_command RC 2 ARGS "" ERR "swacl: error: ")
swacl_cli_test(err_unknown_command RC 2 ARGS frobnicate ERR "swacl: error: unknown command 'frobnicate'")
swacl_cli_test(err_unknown_device RC 1 ARGS run --device nosuch --seq 16
               ERR "swacl: error: .*nosuch")
swacl_cli_test(err_unknown_preset RC 2 ARGS run --preset nosuch --seq 16
               ERR "swacl: error: unknown preset 'nosuch' \\(valid: rnope-swa, swan, cohere2, irope")
swacl_cli_test(err_seq_zero RC 2 ARGS run --seq 0 ERR "swacl: error: .*--seq")
swacl_cli_test(err_seq_negative RC 2 ARGS run --seq -5 ERR "swacl: error: .*--seq")
swacl_cli_test(err_seq_text RC 2 ARGS run --seq abc ERR "swacl: error: .*'abc'.*--seq")
swacl_cli_test(err_seq_missing RC 2 ARGS run --seq ERR "swacl: error: .*--seq needs a value")
swacl_cli_test(err_batch_zero RC 2 ARGS run --batch=0 ERR "swacl: error: .*--batch")
swacl_cli_test(err_window_zero RC 2 ARGS run --window 0 ERR "swacl: error: .*--window")
swacl_cli_test(err_tol_negative RC 2 ARGS run --tol -1 ERR "swacl: error: .*--tol")
swacl_cli_test(err_unknown_option RC 2 ARGS run --bogus ERR "swacl: error: .*'--bogus'")
swacl_cli_test(err_devices_option RC 2 ARGS devices --bogus ERR "swacl: error: .*'--bogus'")
swacl_cli_test(err_bad_config RC 2 ARGS run --heads 3 --seq 16 ERR "swacl: error: invalid configuration")

# generate: prefill + KV-cache decode, every step checked against the reference
swacl_cli_test(generate_verify RC 0
               ARGS generate --preset cohere2 --window 8 --prompt-len 20 --max-new 12 --verify --json
               OUT "\"decode_tokens_per_s\"" JSON_OK)
# bf16 weights with an f16 KV cache: device and reference round K/V to f16
# separately, and the bound allows their one-ulp flips (docs/VERIFY.md);
# before, a correct run failed with ~150 values over the f32 bound
swacl_cli_test(generate_verify_kv_f16 RC 0
               ARGS generate --preset cohere2 --window 8 --prompt-len 40 --max-new 16 --weights bf16
                    --kv-type f16 --verify --json JSON_OK)
# a reference over --verify-mem BYTES is skipped with a message, not run
swacl_cli_test(generate_verify_skipped RC 0
               ARGS generate --preset cohere2 --window 8 --prompt-len 20 --max-new 4 --verify --verify-mem 1000 --json
               OUT "\"verified\":false,\"verify_skipped\":\"the CPU reference needs about [0-9.]+ MiB"
               ERR "swacl: verification skipped: .*more than the .* allowed")
# a prompt past the default 256-token prefill chunk: three chunks (256, 256, 18), checked
swacl_cli_test(generate_default_chunk RC 0
               ARGS generate --preset cohere2 --window 8 --prompt-len 530 --max-new 3 --verify --json
               JSON_OK)
# --prefill-chunk (was --chunk, which the model options' --chunk shadowed):
# three chunks of 7 and one of 2, every step checked
swacl_cli_test(generate_prefill_chunk RC 0
               ARGS generate --preset cohere2 --window 8 --prompt-len 23 --max-new 3 --prefill-chunk 7
                    --verify --json JSON_OK)
swacl_cli_test(generate_continuous RC 0
               ARGS generate --preset rnope-swa --window 8 --prompt-len 12 --max-new 10 --verify --json
               JSON_OK)
swacl_cli_test(generate_prompt_ids RC 0
               ARGS generate --preset swan --window 4 --train-len 4 --prompt-ids 1,2,3,4,5,6 --max-new 8
               --temperature 0.7 --top-k 20 --top-p 0.9 --seed 3 --verify --chunk 4 --json JSON_OK)
swacl_cli_test(err_generate_bad_id RC 2 ARGS generate --prompt-ids 1,x,3 ERR "swacl: error: .*'x'")
swacl_cli_test(err_generate_top_p RC 2 ARGS generate --top-p 0 ERR "swacl: error: .*--top-p")

# memory comparison at any length, nothing allocated
swacl_cli_test(run_kv_only RC 0 ARGS run --preset cohere2 --seq 32768 --kv-only --json
               OUT "\"kv_bytes_window\":1572864")

# checkpoints: a preset round-trips through save + --model, and a transformers
# fixture runs with the reference check
swacl_cli_test(save_cohere2 RC 0 ARGS save --preset cohere2 --layers 4 --window 8
               --out ${CMAKE_BINARY_DIR}/test-cache/model-cohere2)
swacl_cli_test(run_saved_model RC 0 ARGS run --model ${CMAKE_BINARY_DIR}/test-cache/model-cohere2
               --seq 24 --json -q JSON_OK)
set_tests_properties(cli_run_saved_model PROPERTIES DEPENDS cli_save_cohere2)
swacl_cli_test(run_fixture_cohere2 RC 0 ARGS run --model ${CMAKE_SOURCE_DIR}/tests/fixtures/cohere2
               --ids-file ${CMAKE_SOURCE_DIR}/tests/fixtures/cohere2/ids.txt
               --logits-out ${CMAKE_BINARY_DIR}/test-cache/cohere2-logits.npy --json -q JSON_OK)
swacl_cli_test(err_model_missing RC 1 ARGS run --model /nonexistent/model ERR "swacl: error: .*nonexistent")

# tune: the search machinery end to end on one small shape (budget 0: the
# defaults plus the first candidates, every result checked before timing)
swacl_cli_test(tune_smoke RC 0 ARGS tune --budget-s 0 --shapes 300,64,256 --json --no-save -q
               OUT "\"winner\"" JSON_OK)
# tune --own: the own GEMM's quick search, every candidate checked (both kernels)
swacl_cli_test(tune_own_smoke RC 0 ARGS tune --own --quick --budget-s 60 --shapes 70,48,100
               --json --no-save -q OUT "\"candidates\"" JSON_OK)

# bench --model: end to end on a loaded HF checkpoint (one model, no speedup)
swacl_cli_test(bench_model RC 0 ARGS bench --devices 0 --quick --e2e-only --max-seq 64 --model ${CMAKE_SOURCE_DIR}/tests/fixtures/llama --out ${CMAKE_BINARY_DIR}/test-cache/bench-model.json)
# --json as in every command: one JSON object on stdout (--out FILE also writes it)
swacl_cli_test(bench_json RC 0 ARGS bench --devices ref --quick --e2e-only --max-seq 16 --json
               JSON_KEY devices)

# bench --placement: the layer pipeline over a device list vs each device
# alone (works with one PoCL device; "auto" may leave the slow "ref" without
# layers, the SPEC case forces two stages); tiny sizes
swacl_cli_test(bench_pipeline RC 0 ARGS bench --devices 0,ref --placement auto --pipeline-only --quick
               --batch 2 --max-seq 16 --out ${CMAKE_BINARY_DIR}/test-cache/bench-pipeline.json
               OUT "placement: layers 0-.* on dev 0 .*dev ref .*check: pipeline vs dev 0 alone: nmse .* ok"
               ERR "bench: done in .* 0 failure")
swacl_cli_test(bench_pipeline_spec RC 0 ARGS bench --devices 0,ref --placement 0-2:0,3-7:1 --pipeline-only
               --quick --batch 3 --micro-batches 3 --max-seq 16
               OUT "layers 0-2 on dev 0 .*, 3-7 on dev ref .*nmse .* ok")
# errors: a SPEC that leaves layers out (before any device section), an index
# that does not exist: the one error style, "swacl: error: bench: ..."
swacl_cli_test(err_bench_placement_spec RC 2 ARGS bench --devices 0,ref --placement 0-0:0 --quick
               ERR "swacl: error: bench: placement '0-0:0': layers 1-7 are not placed")
swacl_cli_test(err_bench_placement_device RC 1 ARGS bench --devices 0,7 --placement auto --quick
               ERR "swacl: error: bench: device index (0|7) does not exist")

# sub-devices: "N.K" = one-compute-unit parts of device N (PoCL's CPU device
# has 2+ on CI): the pipeline over two of them copies on the device
swacl_cli_test(run_subdevices RC 0 ARGS run --devices 0.0,0.1 --placement auto --seq 32 --batch 2 --json
               JSON_OK OUT "\\[sub 1, 1 CU\\].*\"transfer_in\":\"device-copy\"")
swacl_cli_test(err_subdevice RC 1 ARGS run --device 0.99 --seq 8
               ERR "sub-device 0.99 does not exist: device 0 .* splits into [0-9]+ one-compute-unit sub-devices")

# issue 14, bounds: sizes and counts from outside are checked where they enter
# the library, in 64-bit, before anything is allocated; the memory cap (1 GB)
# fails any allocation of the 8.6 GB these sizes ask for, and the timeout
# catches a slow fill
swacl_cli_test(err_threads_huge RC 2 ARGS run --threads 100000 --device ref --seq 8 TIMEOUT 60
               ERR "swacl: error: .*threads = 100000: must be in 0\\.\\.1024")
swacl_cli_test(err_threads_int_max RC 2 ARGS run --threads 2147483647 --seq 8 TIMEOUT 60
               ERR "swacl: error: .*threads = 2147483647: must be in 0\\.\\.1024")
swacl_cli_test(err_generate_overflow RC 2 ARGS generate --prompt-len 1073741824 --max-new 1073741824
               VMEM_KB 1000000 TIMEOUT 60
               ERR "swacl: error: generate: .*seq 2147483648 = 2147483648 tokens: the limit is 536870911")
swacl_cli_test(err_batch_seq_huge RC 2 ARGS run --batch 2 --seq 1073741823 VMEM_KB 1000000 TIMEOUT 60
               ERR "swacl: error: inputs: .*batch 2 x seq 1073741823 = 2147483646 tokens: the limit is 536870911")
swacl_cli_test(err_output_huge RC 2 ARGS run --preset cohere2 --seq 536870911 --all-positions
               VMEM_KB 1000000 TIMEOUT 60
               ERR "swacl: error: inputs: .*output of 536870911 rows x 2048 = 1099511625728 elements")
# messages: a missing value names the command; save takes only its options;
# size overrides with --model are refused; integers are decimal only
swacl_cli_test(err_save_out_missing RC 2 ARGS save --out
               ERR "swacl: error: save: --out needs a value")
swacl_cli_test(err_save_seq RC 2 ARGS save --out ${CMAKE_BINARY_DIR}/test-cache/save-seq --seq 4
               ERR "swacl: error: save: unknown option '--seq'")
swacl_cli_test(err_save_device RC 2 ARGS save --out ${CMAKE_BINARY_DIR}/test-cache/save-dev --device ref
               ERR "swacl: error: save: unknown option '--device'")
swacl_cli_test(save_json RC 0 ARGS save --out ${CMAKE_BINARY_DIR}/test-cache/save-json --layers 1 --json -q
               OUT "^{\"dir\":.*\"seed\":1,.*\"ok\":true}[\r\n]*$" JSON_OK)
swacl_cli_test(err_model_overrides RC 2
               ARGS run --model ${CMAKE_SOURCE_DIR}/tests/fixtures/llama --preset cohere2 --layers 3 --window 8
               ERR "swacl: error: .*size overrides .* apply to presets only")
swacl_cli_test(err_seed_hex RC 2 ARGS run --seed 0x10 --kv-only
               ERR "swacl: error: invalid value '0x10' for --seed")
swacl_cli_test(seed_decimal RC 0 ARGS run --seed 010 --device ref --seq 8 --layers 1 --no-verify --json -q
               OUT "\"seed\":10," JSON_OK)

# Issue 13: text in, text out. tests/fixtures/tok/llama3 is a tokenizer
# (Llama 3 style, trained by tools/make_tok_fixtures.py) beside a random
# 2-layer Llama; expected ids are what the `tokenizers` package gives.
set(SWACL_TOK ${CMAKE_SOURCE_DIR}/tests/fixtures/tok)
swacl_cli_test(tokenize RC 0 ARGS tokenize --model ${SWACL_TOK}/llama3 "Hello world, it's 2024!"
               OUT "^700 39 68 379 438 11 329 6 82 220 17 668 19 0[\r\n]*$")
swacl_cli_test(tokenize_verbose_json RC 0 ARGS tokenize --model ${SWACL_TOK}/mistral -v --json "Hello world"
               OUT "^{\"count\":2,\"ids\":.954,523.,\"pieces\":.\"▁Hello\",\"▁world\".}" JSON_KEY pieces)
swacl_cli_test(tokenize_no_special RC 0 ARGS tokenize --model ${SWACL_TOK}/llama3/tokenizer.json --no-special "Hello"
               OUT "^39 68 379[\r\n]*$")
swacl_cli_test(detokenize RC 0 ARGS detokenize --model ${SWACL_TOK}/llama3 "700,39,68,379,438,11,329,6,82,220,17,668,19,0"
               OUT "^<\\|begin_of_text\\|>Hello world, it's 2024!\n$")
swacl_cli_test(detokenize_json RC 0 ARGS detokenize --json --model ${SWACL_TOK}/llama3 "700 39 71 224"
               OUT "\"text\":\"<\\|begin_of_text\\|>Hh.+\"" JSON_KEY text)
swacl_cli_test(generate_prompt_json RC 0 ARGS generate --model ${SWACL_TOK}/llama3 --prompt "Once upon a time"
               --max-new 8 --device ref --json -q OUT "\"prompt_tokens\":7,\"new_tokens\":[0-8],.*\"text\":" JSON_OK)
swacl_cli_test(generate_prompt_verify RC 0 ARGS generate --model ${SWACL_TOK}/llama3 --prompt "Once upon a time"
               --max-new 12 --verify --json -q OUT "\"verified\":true" JSON_OK)
swacl_cli_test(generate_prompt_text RC 0 ARGS generate --model ${SWACL_TOK}/llama3 --prompt-file
               ${SWACL_TOK}/llama3/generation_config.json --max-new 4 --ignore-eos --device ref -q OUT "new_tokens +4")
swacl_cli_test(err_prompt_no_model RC 2 ARGS generate --prompt "hi" --max-new 2
               ERR "swacl: error: generate: .*--prompt / --prompt-file need --model DIR")
swacl_cli_test(err_prompt_and_ids RC 2 ARGS generate --model ${SWACL_TOK}/llama3 --prompt "hi" --prompt-ids 1,2
               ERR "not with --prompt")
swacl_cli_test(err_tokenize_no_model RC 2 ARGS tokenize "hi" ERR "tokenize: --model DIR is required")
swacl_cli_test(err_tokenize_two_words RC 2 ARGS tokenize --model ${SWACL_TOK}/llama3 a b
               ERR "unexpected argument 'b'")
file(WRITE ${CMAKE_BINARY_DIR}/test-cache/unigram/tokenizer.json
     "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}")
swacl_cli_test(err_tokenizer_unsupported RC 2 ARGS tokenize --model ${CMAKE_BINARY_DIR}/test-cache/unigram "hi"
               ERR "swacl: error: tokenize: unsupported: .*unigram/tokenizer.json: model: unsupported type 'Unigram'")
# EOS: a copy of the fixture model whose generation_config.json lists every
# id as EOS stops after the first new token, unless --ignore-eos.
set(SWACL_EOS_DIR ${CMAKE_BINARY_DIR}/test-cache/eos-model)
file(COPY ${SWACL_TOK}/llama3/config.json ${SWACL_TOK}/llama3/model.safetensors
     ${SWACL_TOK}/llama3/tokenizer.json ${SWACL_TOK}/llama3/tokenizer_config.json DESTINATION ${SWACL_EOS_DIR})
set(all_ids "")
foreach(i RANGE 702)
  list(APPEND all_ids ${i})
endforeach()
string(JOIN "," all_ids ${all_ids})
file(WRITE ${SWACL_EOS_DIR}/generation_config.json "{\"eos_token_id\": [${all_ids}]}")
swacl_cli_test(generate_stops_at_eos RC 0 ARGS generate --model ${SWACL_EOS_DIR} --prompt "Hi" --max-new 8
               --device ref --json -q OUT "\"new_tokens\":1," JSON_OK)
swacl_cli_test(generate_ignore_eos RC 0 ARGS generate --model ${SWACL_EOS_DIR} --prompt "Hi" --max-new 8
               --ignore-eos --device ref --json -q OUT "\"new_tokens\":8," JSON_OK)
