/**
 * Data-plane errors in Azure's vocabulary. A service error becomes the Azure status and code an
 * Azure SDK understands; the SDK retries 500 and 503 (up to four tries), so caller mistakes are
 * always 4xx and a retry never repeats a refused write.
 */
import { ServiceError, type ErrorCode } from "../errors.js";

/** A caller mistake with its Azure error code, and the Azure status when it is not the usual one. */
export class AzureError extends ServiceError {
  constructor(
    code: ErrorCode,
    readonly azureCode: string,
    message: string,
    readonly azureStatus?: number,
  ) {
    super(code, message);
  }
}

/** Azure answers 411 when a write has no Content-Length (chunked bodies are not accepted). */
const LENGTH_REQUIRED = 411;

export const missingContentLength = () =>
  new AzureError(
    "bad_request",
    "MissingContentLengthHeader",
    "Content-Length is required",
    LENGTH_REQUIRED,
  );
export const badQuery = (message: string) =>
  new AzureError("bad_request", "InvalidQueryParameterValue", message);
export const badHeader = (message: string) =>
  new AzureError("bad_request", "InvalidHeaderValue", message);
export const missingHeader = (message: string) =>
  new AzureError("bad_request", "MissingRequiredHeader", message);
export const badXml = (message: string) =>
  new AzureError("bad_request", "InvalidXmlDocument", message);
export const bodyTooLarge = (message: string) =>
  new AzureError("too_large", "RequestBodyTooLarge", message);

/** The Azure code for a service error the cache domain raises (a 400's code depends on the operation). */
const CODES: Record<ErrorCode, string> = {
  bad_request: "InvalidBlobOrBlock",
  unauthenticated: "AuthenticationFailed",
  forbidden: "AuthenticationFailed",
  not_found: "BlobNotFound",
  // The entry is committed and immutable: Azure's word for a blob that may not be written.
  already_exists: "BlobAlreadyExists",
  conflict: "BlobAlreadyExists",
  too_large: "RequestBodyTooLarge",
  unavailable: "ServerBusy",
  webhook_disabled: "ServerBusy",
};

export interface AzureAnswer {
  status: number;
  code: string;
  message: string;
}

/** The answer for an error, or undefined when it is not the caller's doing. */
export function azureAnswerFor(error: unknown, badRequestCode: string): AzureAnswer | undefined {
  if (error instanceof AzureError) {
    return {
      status: error.azureStatus ?? error.status,
      code: error.azureCode,
      message: error.message,
    };
  }
  if (error instanceof ServiceError) {
    const code = error.code === "bad_request" ? badRequestCode : CODES[error.code];
    const prefix = error.code === "forbidden" ? "Server failed to authenticate the request: " : "";
    return { status: error.status, code, message: `${prefix}${error.message}` };
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { status, code: "InvalidInput", message: (error as Error).message };
  }
  return undefined;
}
