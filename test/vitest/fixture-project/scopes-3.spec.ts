import { scopeTests } from "./scopes.js";

scopeTests("scopes-3");
