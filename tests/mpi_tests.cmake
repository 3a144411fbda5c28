# mpi_tests.cmake - `swacl` under mpirun (issue 16), registered only when the
# build has the MPI pipeline (SWACL_HAVE_MPI). Same two roles as
# cli_tests.cmake: included, it registers the tests; run as a script, it runs
# one job and checks it.
#
# Script variables: MPIEXEC (mpirun and its options), NP, EXE, ARGS, EXPECT_RC
# ("0" or "fail": any non-zero), MATCH (regex over stdout + stderr), MAX_S
# (wall seconds the job may take), PRE_ARGS (a single-process run made
# first), SAME_FILES (two files that must be byte-identical afterwards),
# SAME_JSON_KEY (that key equal in the JSON of the PRE_ARGS run and the job).

if(CMAKE_SCRIPT_MODE_FILE)
  if(DEFINED PRE_ARGS)
    execute_process(COMMAND ${EXE} ${PRE_ARGS} RESULT_VARIABLE rc0 OUTPUT_VARIABLE out0 ERROR_VARIABLE err0)
    if(NOT rc0 STREQUAL "0")
      message(FATAL_ERROR "the single-process run failed (${rc0}):\n${err0}")
    endif()
  endif()
  string(TIMESTAMP t0 "%s")
  execute_process(COMMAND ${MPIEXEC} -np ${NP} ${EXE} ${ARGS} TIMEOUT 300
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(TIMESTAMP t1 "%s")
  math(EXPR secs "${t1} - ${t0}")
  string(REPLACE ";" " " shown "${ARGS}")
  message("command: mpirun -np ${NP} swacl ${shown}\nexit: ${rc} after ${secs} s\n--- stdout ---\n${out}--- stderr ---\n${err}")
  if(EXPECT_RC STREQUAL "fail")
    if(rc STREQUAL "0" OR rc MATCHES "timeout|Process terminated due to timeout")
      message(FATAL_ERROR "the job should have failed, exit: ${rc}")
    endif()
  elseif(NOT rc STREQUAL "${EXPECT_RC}")
    message(FATAL_ERROR "exit code ${rc}, expected ${EXPECT_RC}")
  endif()
  if(DEFINED MAX_S AND secs GREATER MAX_S)
    message(FATAL_ERROR "the job took ${secs} s, more than ${MAX_S} s")
  endif()
  if(DEFINED MATCH AND NOT "${out}${err}" MATCHES "${MATCH}")
    message(FATAL_ERROR "output does not match '${MATCH}'")
  endif()
  if(DEFINED SAME_FILES)
    list(GET SAME_FILES 0 a)
    list(GET SAME_FILES 1 b)
    file(SHA256 ${a} ha)
    file(SHA256 ${b} hb)
    if(NOT ha STREQUAL hb)
      message(FATAL_ERROR "${a} and ${b} differ: the MPI run is not the single-process run")
    endif()
  endif()
  if(DEFINED SAME_JSON_KEY)
    string(JSON v0 GET "${out0}" ${SAME_JSON_KEY})
    string(JSON v1 GET "${out}" ${SAME_JSON_KEY})
    if(NOT v0 STREQUAL v1)
      message(FATAL_ERROR "${SAME_JSON_KEY} differs:\n single ${v0}\n mpi    ${v1}")
    endif()
  endif()
  # RANK_BYTES: each rank made on its host exactly the weights it uploaded
  # (its layers' tensors), and they are less than the whole model
  if(DEFINED RANK_BYTES)
    string(JSON nr LENGTH "${out}" ranks)
    math(EXPR last "${nr} - 1")
    foreach(i RANGE ${last})
      string(JSON hb GET "${out}" ranks ${i} host_weight_bytes)
      string(JSON wb GET "${out}" ranks ${i} weight_bytes)
      string(JSON tot GET "${out}" weight_bytes_total)
      if(NOT hb STREQUAL wb OR hb EQUAL 0)
        message(FATAL_ERROR "rank ${i}: host weights ${hb} bytes, its layers' ${wb}")
      endif()
    endforeach()
  endif()
  return()
endif()

# ---- include mode ----------------------------------------------------------
set(SWACL_MPI_SCRIPT ${CMAKE_CURRENT_LIST_FILE})
# root in CI containers; --oversubscribe: more ranks than cores
set(SWACL_MPIEXEC "${MPIEXEC_EXECUTABLE};--oversubscribe")
set(SWACL_MPI_ENV "SWACL_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache/swacl"
    "POCL_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache/pocl" "OMPI_ALLOW_RUN_AS_ROOT=1"
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" "OMPI_MCA_rmaps_base_oversubscribe=1")
# Sanitizer builds: checked as every other test, with full stack unwinding
# so that tests/lsan.supp can name Open MPI's own leftovers (see there).
if(SWACL_SANITIZE)
  list(APPEND SWACL_MPI_ENV
       "ASAN_OPTIONS=detect_leaks=1:detect_odr_violation=0:abort_on_error=0:fast_unwind_on_malloc=0"
       "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0:use_tls=0:fast_unwind_on_malloc=0")
endif()

# swacl_mpi_test(NAME ARGS ... [RC 0|fail] [MATCH re] [MAX_S s] [PRE_ARGS ...]
#                [SAME_FILES a b] [SAME_JSON_KEY k] [ENV VAR=VALUE ...])
function(swacl_mpi_test name)
  cmake_parse_arguments(T "" "RC;MATCH;MAX_S;SAME_JSON_KEY;RANK_BYTES" "ARGS;PRE_ARGS;SAME_FILES;ENV" ${ARGN})
  if(NOT DEFINED T_RC)
    set(T_RC 0)
  endif()
  string(REPLACE ";" "\\;" args "${T_ARGS}")
  string(REPLACE ";" "\\;" mpiexec "${SWACL_MPIEXEC}")
  set(cmd ${CMAKE_COMMAND} "-DMPIEXEC=${mpiexec}" -DNP=2 "-DEXE=$<TARGET_FILE:swacl>" "-DARGS=${args}"
      "-DEXPECT_RC=${T_RC}")
  foreach(v MATCH MAX_S SAME_JSON_KEY RANK_BYTES)
    if(DEFINED T_${v})
      list(APPEND cmd "-D${v}=${T_${v}}")
    endif()
  endforeach()
  foreach(v PRE_ARGS SAME_FILES)
    if(DEFINED T_${v})
      string(REPLACE ";" "\\;" x "${T_${v}}")
      list(APPEND cmd "-D${v}=${x}")
    endif()
  endforeach()
  list(APPEND cmd -P ${SWACL_MPI_SCRIPT})
  add_test(NAME mpi_${name} COMMAND ${cmd})
  set_tests_properties(mpi_${name} PROPERTIES ENVIRONMENT "${SWACL_MPI_ENV};${T_ENV}" TIMEOUT 400
                       RUN_SERIAL TRUE)
endfunction()

set(d ${CMAKE_BINARY_DIR}/test-cache)
# the issue's size; a sanitizer (Debug) build checks the same paths smaller
# (and gives start-up, ASan's included, 30 s instead of 10 before a failure
# must have ended the job)
set(bt --batch 8 --seq 256)
set(bt_auto --batch 4 --seq 48)
set(steps 64)
set(max_s 10)
if(SWACL_SANITIZE)
  set(bt --batch 4 --seq 32)
  set(bt_auto --batch 2 --seq 16)
  set(steps 16)
  set(max_s 30)
endif()
# The issue's run: each rank one PoCL sub-device; the 2-rank logits are the
# single-process pipeline's (same split), bit for bit.
swacl_mpi_test(run_cohere2
  PRE_ARGS run --preset cohere2 ${bt} --devices 0.0,0.1 --placement 0-3:0,4-7:1
           --no-verify --logits-out ${d}/mpi-single.npy -q
  ARGS run --preset cohere2 ${bt} --devices 0:0.0,1:0.1 --placement 0-3:0,4-7:1
       --no-verify --logits-out ${d}/mpi-ranks.npy -q --json
  MATCH "\"rank\":1.*\"transfer_in\":\"mpi\"" SAME_FILES ${d}/mpi-single.npy ${d}/mpi-ranks.npy)
# placement auto over both ranks (calibration + MPI hop), checked on rank 0
# against the CPU reference at NMSE <= 1e-10
swacl_mpi_test(run_auto ARGS run --preset cohere2 ${bt_auto} --devices 0:0.0,1:0.1 --tol 1e-10 --json -q
  MATCH "\"verified\":true.*\"ok\":true")
# a reference that does not fit rank 0 (forced: --verify-mem 1000 bytes) is
# skipped with a message and verify_skipped, never run out of memory
swacl_mpi_test(verify_skipped ARGS run --preset cohere2 --batch 2 --seq 32 --devices 0:0.0,1:0.1
       --placement 0-3:0,4-7:1 --verify-mem 1000
       --json -q MATCH "\"verified\":false.*\"verify_skipped\":\"the CPU reference needs.*swacl: verification skipped")
# a 64-step greedy decode session (each rank the KV cache of its layers):
# every step checked against the reference, tokens equal to one process's
swacl_mpi_test(generate_decode
  PRE_ARGS generate --preset cohere2 --prompt-len 16 --max-new ${steps} --temperature 0 --chunk 5 --devices 0.0,0.1
           --placement 0-3:0,4-7:1 --json -q
  ARGS generate --preset cohere2 --prompt-len 16 --max-new ${steps} --temperature 0 --devices 0:0.0,1:0.1
       --placement 0-3:0,4-7:1 --verify --tol 1e-10 --chunk 5 --json -q
  MATCH "\"ok\":true" SAME_JSON_KEY tokens)
# each rank builds (seeded presets) and converts (--weights f16) only its
# layers' tensors: its host weight bytes are its stages' uploaded bytes
swacl_mpi_test(rank_weights ARGS run --preset cohere2 --batch 2 --seq 32 --devices 0:0.0,1:0.1
       --placement 0-3:0,4-7:1 --no-verify --json -q RANK_BYTES 1 MATCH "\"kv_bytes\":131072")
swacl_mpi_test(rank_weights_f16 ARGS run --preset cohere2 --batch 2 --seq 32 --devices 0:0.0,1:0.1
       --placement 0-3:0,4-7:1 --no-verify --weights f16 --json -q RANK_BYTES 1)
# `swacl bench` under mpirun: the pipeline section over the ranks, checked
# against device 0.0 alone on rank 0, with per-rank busy and transfer time
swacl_mpi_test(bench_pipeline ARGS bench --devices 0:0.0,1:0.1 --placement 0-3:0,4-7:1 --quick --max-seq 32
       --batch 2 --micro-batches 2 --json -q
  MATCH "\"ranks\":.*\"rank\":1,\"layer_begin\".*\"transfer_share\".*\"nmse\":0,.*\"ok\":true")
# --model DIR (safetensors) with --weights conversion: each rank reads and
# converts only its layers' tensors (swacl_ctx_params.lazy_weights)
add_test(NAME mpi_model_setup COMMAND swacl save --preset cohere2 --out ${d}/mpi-model -q)
set_tests_properties(mpi_model_setup PROPERTIES FIXTURES_SETUP mpi_model)
swacl_mpi_test(rank_weights_model ARGS run --model ${d}/mpi-model --weights f16 --batch 2 --seq 32
       --devices 0:0.0,1:0.1 --placement 0-3:0,4-7:1 --no-verify --json -q RANK_BYTES 1)
set_tests_properties(mpi_rank_weights_model PROPERTIES FIXTURES_REQUIRED mpi_model)
# --model FILE.gguf: each rank reads only its layers' tensors (lazy GGUF),
# as stored (q8_0) and converted (--weights f16); logits equal the
# single-process pipeline's, bit for bit
set(gg ${CMAKE_SOURCE_DIR}/tests/fixtures/gguf/llama-q8_0.gguf)
foreach(wt auto f16)
  swacl_mpi_test(rank_weights_gguf_${wt}
    PRE_ARGS run --model ${gg} --weights ${wt} --batch 2 --seq 32 --devices 0.0,0.1 --placement 0:0,1-2:1
             --no-verify --logits-out ${d}/mpi-gguf-${wt}-single.npy -q
    ARGS run --model ${gg} --weights ${wt} --batch 2 --seq 32 --devices 0:0.0,1:0.1 --placement 0:0,1-2:1
         --no-verify --logits-out ${d}/mpi-gguf-${wt}-ranks.npy --json -q RANK_BYTES 1
    SAME_FILES ${d}/mpi-gguf-${wt}-single.npy ${d}/mpi-gguf-${wt}-ranks.npy)
endforeach()
# failures end the job on every rank with a message naming the rank, fast
swacl_mpi_test(killed_rank RC fail MAX_S ${max_s} ENV SWACL_MPI_FAULT=kill:1
  ARGS run --preset cohere2 --batch 2 --seq 32 --devices 0:0.0,1:0.1 -q
  MATCH "rank 1 .*(signal 9|Killed)")
swacl_mpi_test(device_error RC fail MAX_S ${max_s} ENV SWACL_MPI_FAULT=fail:1
  ARGS run --preset cohere2 --batch 2 --seq 32 --devices 0:0.0,1:0.1 -q
  MATCH "swacl: rank 1 .*layers [0-9]+-7.*injected failure")
swacl_mpi_test(hung_rank RC fail MAX_S ${max_s} ENV SWACL_MPI_FAULT=hang:1 SWACL_MPI_TIMEOUT=2
  ARGS run --preset cohere2 --batch 2 --seq 32 --devices 0:0.0,1:0.1 -q
  MATCH "swacl: rank 0 .*rank 1 .*within 2 s")
swacl_mpi_test(rank_without_device RC fail MAX_S 20 ARGS run --preset cohere2 --seq 16 --devices 0:0.0 -q
  MATCH "rank 1 has no device")
