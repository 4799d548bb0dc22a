"""Identity on Triton's Python backend: each request's "input" returned as "output".

The numpy view of the input lives in the shared-memory region the server wrote it to; building
the output Tensor copies it once into the response's region (as optic's null backend copies
once).
"""
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "input").as_numpy()
            out = pb_utils.Tensor("output", x)
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
