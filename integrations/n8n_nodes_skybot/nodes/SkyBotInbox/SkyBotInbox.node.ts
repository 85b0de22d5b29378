import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import {
	agentOperations,
	agentProperties,
	executeAgent,
	getAgentTemplates,
} from './resources/agent';
import { executeLead, leadOperations, leadProperties } from './resources/lead';
import { executeMessage, messageOperations, messageProperties } from './resources/message';
import { CREDENTIAL_NAME } from './transport';

type Handler = (
	this: IExecuteFunctions,
	operation: string,
	itemIndex: number,
) => Promise<IDataObject | IDataObject[]>;

const HANDLERS: Record<string, Handler> = {
	agent: executeAgent,
	lead: executeLead,
	message: executeMessage,
};

export class SkyBotInbox implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'SkyBot Inbox',
		name: 'skyBotInbox',
		icon: { light: 'file:../../icons/skybot.svg', dark: 'file:../../icons/skybot.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Work with leads, conversation messages and AI agents in SkyBot Inbox',
		defaults: {
			name: 'SkyBot Inbox',
		},
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: CREDENTIAL_NAME, required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Agent', value: 'agent' },
					{ name: 'Lead', value: 'lead' },
					{ name: 'Message', value: 'message' },
				],
				default: 'lead',
			},
			...leadOperations,
			...leadProperties,
			...messageOperations,
			...messageProperties,
			...agentOperations,
			...agentProperties,
		],
	};

	methods = {
		loadOptions: { getAgentTemplates },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const returnData: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const resource = this.getNodeParameter('resource', itemIndex) as string;
				const operation = this.getNodeParameter('operation', itemIndex) as string;
				const handler = HANDLERS[resource];
				if (!handler) {
					throw new NodeOperationError(this.getNode(), `Unknown resource "${resource}"`, {
						itemIndex,
					});
				}
				const result = await handler.call(this, operation, itemIndex);
				for (const json of Array.isArray(result) ? result : [result]) {
					returnData.push({ json, pairedItem: { item: itemIndex } });
				}
			} catch (error) {
				if (this.continueOnFail()) {
					const failure: IDataObject = { error: error.message };
					if (error.description) failure.description = error.description;
					if (error.httpCode) failure.httpCode = error.httpCode;
					returnData.push({ json: failure, pairedItem: { item: itemIndex } });
					continue;
				}
				if (error instanceof NodeApiError) {
					// Wrapping a NodeApiError hands back the same error: name the item on it first.
					error.context.itemIndex = itemIndex;
					throw new NodeApiError(this.getNode(), error as unknown as JsonObject, { itemIndex });
				}
				throw new NodeOperationError(this.getNode(), error, { itemIndex });
			}
		}
		return [returnData];
	}
}
